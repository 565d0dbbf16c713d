"""A keyboard user in Chromium: Tab (or Shift+Tab) to a target, checking at every stop
that the focus can be seen and noting each stop's accessible name. Used by the new
user's walk (test_new_user_walk.py) and the admin review (test_admin_review.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Is the focused element's focus shown? Something about it, or about the box that
#: shows it (the next sibling of a hidden checkbox, the parent of a hidden file input,
#: the viewer around the page image), looks different focused than not: outline,
#: shadow, border or background. Compared by blurring and focusing it again (after a
#: key press Chromium shows programmatic focus as :focus-visible, as the key did). A
#: visible form field must show a ring of its own.
_FOCUS_SHOWN = """
const el = document.activeElement;
if (!el || el === document.body) return {shown: false, what: 'body'};
const what = el.tagName + (el.id ? '#' + el.id : '') + ' '
  + (el.textContent || '').trim().slice(0, 30);
const rect = el.getBoundingClientRect();
const own = getComputedStyle(el);
if (['INPUT', 'SELECT', 'TEXTAREA'].includes(el.tagName) && rect.width > 2 && rect.height > 2
    && own.opacity !== '0') {
  // A visible field: its own ring (blurring a date field would reset it to its first part).
  // Chromium's date field: its calendar button (inside the field, not :focus) draws its
  // own focus ring, seen on the screenshots.
  if (el.type === 'date' && !el.matches(':focus')) return {shown: true, what: what};
  const ring = (own.outlineStyle !== 'none' && parseFloat(own.outlineWidth) > 0)
    || own.boxShadow !== 'none';
  return {shown: ring, what: what};
}
const parent = el.parentElement;
const nodes = [el, el.nextElementSibling, parent, parent && parent.parentElement,
               el.closest('.viewer')].filter(Boolean);
const look = () => nodes.map(n => {
  const s = getComputedStyle(n);
  return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor,
          s.backgroundColor].join('|');
});
const focused = look();
el.blur();
const blurred = look();
el.focus();
return {shown: focused.some((v, i) => v !== blurred[i]) && document.activeElement === el,
        what: what + ' @' + Math.round(rect.left) + ',' + Math.round(rect.top)};
"""

#: The focused element's accessible name, roughly: aria-label, its label's text (or the
#: alt of a label's image, as Django admin's search icon), its text, value or title.
_ACCESSIBLE_NAME = """
const el = document.activeElement;
const label = el.labels && el.labels[0];
const labelled = label && (label.textContent.trim() || (label.querySelector('img') || {}).alt);
return (el.getAttribute('aria-label') || labelled || el.textContent || el.value || el.title
        || '').trim();
"""


class Keyboard:
    """Tab through a page as a keyboard user does, checking the focus ring at each stop."""

    def __init__(self, browser: Any, on_hidden_focus: Callable[[int], object] | None = None):
        self.browser = browser
        self.on_hidden_focus = on_hidden_focus  # called with the count, e.g. a screenshot
        self.invisible: list[str] = []
        self.counts: dict[str, int] = {}  # Tab presses to each target, for the log
        self.stops: list[str] = []  # the accessible names passed by the last tab_to

    def press(self, *keys: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.browser).send_keys(*keys).perform()

    def check_focus(self, where: str) -> None:
        """Record the focused element if its focus is not visible."""
        state = self.browser.execute_script(_FOCUS_SHOWN)
        if not state["shown"]:
            self.invisible.append(f"{where}: {state['what']}")
            if self.on_hidden_focus:
                self.on_hidden_focus(len(self.invisible))

    def tab_to(self, script: str, where: str, limit: int = 40, *, back: bool = False) -> int:
        """Press Tab (Shift+Tab with ``back``) until ``script`` (JS, gets the focused
        element as ``el``) is true.

        Returns the number of Tab presses (0 when it already has the focus); fails
        after ``limit``. :attr:`stops` has the accessible name of each stop passed.
        """
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        if self.browser.execute_script(
            "const el = document.activeElement; return !!(" + script + ")"
        ):
            return 0  # already there (a field with autofocus)
        self.stops = []
        for count in range(1, limit + 1):
            if back:
                ActionChains(self.browser).key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(
                    Keys.SHIFT
                ).perform()
            else:
                self.press(Keys.TAB)
            self.check_focus(where)
            self.stops.append(self.browser.execute_script(_ACCESSIBLE_NAME))
            if self.browser.execute_script(
                "const el = document.activeElement; return !!(" + script + ")"
            ):
                self.counts[where] = count
                return count
        active = self.browser.execute_script(
            "const e = document.activeElement; return e.tagName + '#' + e.id + ' ' + e.textContent"
        )
        raise AssertionError(f"{where}: not reached in {limit} Tabs (focus on {active[:80]})")
