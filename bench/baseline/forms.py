from django import forms

RIGHTS = [
    ("access", "Access"),
    ("rectification", "Rectification"),
    ("erasure", "Erasure"),
    ("restriction", "Restriction"),
    ("objection", "Objection"),
    ("portability", "Portability"),
]


class SubmissionForm(forms.Form):
    """The same kinds of fields as the real form's core: name, e-mail, a choice, a text."""

    name = forms.CharField(max_length=200)
    email = forms.EmailField(max_length=254)
    right = forms.ChoiceField(choices=RIGHTS)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea)
