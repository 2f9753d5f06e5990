"""App-wide accessibility defaults, applied once instead of on every page.

- Every button, icon button, text field, select and tab is at least 44 px high
  (Radix's sizes 1-3 are 24-40 px); App.style is the lowest-priority style, so a
  component's own size props still win. A text field with a value and on_change
  becomes a DebounceInput after this style is applied, so such a field sets
  min_height=TARGET itself (the e2e tap-target check finds any that do not).
- Radix's Table wraps every table in its own scroll area, whose viewport takes no
  props: a wide table on a phone scrolls there, and keyboard users could not reach
  it. A small script makes those viewports focusable.
- rx.link turns its text the accent's step 8 on hover, 2.4:1 on white (WCAG asks
  4.5:1): a hovered link keeps the readable step 11 and is underlined instead.
  Reflex sets that hover colour on each link itself, so only a stylesheet rule
  marked important outranks it.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_components_radix.themes.components.button import Button
from reflex_components_radix.themes.components.icon_button import IconButton
from reflex_components_radix.themes.components.select import SelectTrigger
from reflex_components_radix.themes.components.tabs import TabsTrigger
from reflex_components_radix.themes.components.text_field import TextFieldRoot

from components.fields import TARGET

APP_STYLE: dict[Any, Any] = {
    Button: {"min_height": TARGET},
    IconButton: {"min_height": TARGET, "min_width": TARGET},
    TextFieldRoot: {"min_height": TARGET},
    SelectTrigger: {"min_height": TARGET},
    TabsTrigger: {"min_height": TARGET},
}

FOCUSABLE_TABLES_JS = """
(function () {
  var mark = function () {
    document.querySelectorAll('.rt-TableRoot .rt-ScrollAreaViewport:not([tabindex])')
      .forEach(function (v) { v.tabIndex = 0; });
  };
  new MutationObserver(mark).observe(document.documentElement,
    {childList: true, subtree: true});
  mark();
})();
"""


LINK_HOVER_CSS = (
    "a.rt-Link:hover { color: var(--accent-11) !important; "
    "text-decoration-line: underline; }"
)


def head_components() -> list[rx.Component]:
    return [rx.script(FOCUSABLE_TABLES_JS), rx.el.style(LINK_HOVER_CSS)]
