from django.db import models
from django.utils.translation import gettext_lazy as _

from dsar_portal.jurisdictions import SUPPORTED_JURISDICTIONS


class Organisation(models.Model):
    """The controller running this portal: one row, editable by the DPO in the admin.

    Created on first use from the DSAR_ORGANISATION settings (environment), so
    a deployment is configured without code and can be adjusted later.
    """

    name = models.CharField(_("organisation name"), max_length=200)
    contact_email = models.EmailField(_("privacy contact e-mail"))
    dpo_name = models.CharField(_("data protection officer"), max_length=200)
    dpo_email = models.EmailField(_("DPO e-mail"))
    jurisdiction = models.CharField(
        _("default jurisdiction"),
        max_length=8,
        choices=sorted(SUPPORTED_JURISDICTIONS.items(), key=lambda item: item[1]),
        help_text=_("Decides public holidays and whether UK or EU rules on the clock apply."),
    )
    supervisory_authority_name = models.CharField(_("supervisory authority"), max_length=200)
    supervisory_authority_url = models.URLField(_("supervisory authority website"))
    supervisory_authority_address = models.TextField(_("supervisory authority postal address"))
    # UK: DPA 2018 s.164A (inserted by the Data (Use and Access) Act 2025) requires a route for complaints to the
    # controller, which refusal and completion notices offer; empty means the privacy contact e-mail.
    complaints_contact = models.CharField(
        _("complaints contact"),
        max_length=300,
        blank=True,
        help_text=_("Where people can complain to us about how we handled their request (an e-mail or web address)."),
    )
    # GDPR Art. 27: a controller outside the EU offering goods or services to people in the EU names a
    # representative there; Art. 13(1)(a) and 14(1)(a) put its contact details in the privacy notice. Optional.
    eu_representative_name = models.CharField(_("EU representative"), max_length=200, blank=True)
    eu_representative_address = models.TextField(_("EU representative's postal address"), blank=True)
    eu_representative_email = models.EmailField(_("EU representative's e-mail"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisation")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        from .selectors import organisation_forget

        super().save(*args, **kwargs)
        organisation_forget()

    @property
    def complaints_route(self) -> str:
        """Where a person complains to us first (UK DPA 2018 s.164A): the complaints contact, else the privacy one."""
        return self.complaints_contact or self.contact_email
