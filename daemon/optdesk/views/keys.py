"""Arrow-down from a search box into its results (plain ipywidgets have no key events).

``ArrowIntoResults(source_class, target_class)`` is an invisible anywidget put in a view (a
container with the class ``optdesk-view``). In the browser, ArrowDown in a text box of that view
carrying ``source_class`` moves the focus into the ``Select`` carrying ``target_class``: the
first result is chosen when none is (the view opens it, as a click would), and the next arrow
presses move in the list as usual. Everything happens in the browser; the Python side only
sees the Select's new value. Without the widget's front end (anywidget not installed in the
Jupyter server) nothing breaks: the arrow just does nothing, as before.
"""

from __future__ import annotations

import anywidget
import traitlets

ESM = """
function render({ model, el }) {
  el.style.display = "none";
  const onKey = (event) => {
    if (event.key !== "ArrowDown" || event.altKey || event.ctrlKey || event.metaKey
        || event.shiftKey || event.isComposing) return;
    const box = event.target;
    if (!(box instanceof HTMLInputElement)) return;
    if (!box.closest("." + model.get("source_class"))) return;
    const view = box.closest(".optdesk-view");
    if (!view || !view.contains(el)) return;
    const list = view.querySelector("." + model.get("target_class") + " select");
    if (!list || !list.options.length) return;
    event.preventDefault();
    event.stopPropagation();
    list.focus();
    if (list.selectedIndex < 0) {
      list.selectedIndex = 0;
      list.dispatchEvent(new Event("change", { bubbles: true }));
    }
  };
  document.addEventListener("keydown", onKey, true);
  return () => document.removeEventListener("keydown", onKey, true);
}
export default { render };
"""


class ArrowIntoResults(anywidget.AnyWidget):
    """See the module's docstring."""

    _esm = ESM
    source_class = traitlets.Unicode("optdesk-search").tag(sync=True)
    target_class = traitlets.Unicode("optdesk-results").tag(sync=True)
