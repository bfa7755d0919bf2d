// The staff queue with htmx: after a page of results is swapped in from a paging link, keyboard and screen-reader
// users carry on from the top of the new results, not from a link that no longer exists (WCAG 2.4.3 focus order).
// A file served by the portal, so the Content-Security-Policy needs no inline script.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail.target;
  const from = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (target && target.id === "queue-results" && from && from.closest(".pagination")) {
    target.focus();
  }
});
