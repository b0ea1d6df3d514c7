"""What the browser tests check on any admin page: axe-core's accessibility rules, and that nothing
sticks out of the page sideways."""
from __future__ import annotations

from pathlib import Path

# axe-core from npm, kept with the tests (assets/README.md); Playwright adds it to each page of a
# context it is given to, the app never serves it.
AXE = Path(__file__).parent / "assets" / "axe.min.js"
SERIOUS = ("serious", "critical")

_AXE_RUN = """async impacts => (await axe.run(document, {resultTypes: ["violations"]})).violations
    .filter(violation => impacts.includes(violation.impact))
    .map(violation => `${violation.id} (${violation.help}): ` +
         violation.nodes.slice(0, 5).map(node => node.target.join(" ")).join(", "))"""

# Every element whose box passes the page's right or left edge, unless a box around it that
# scrolls or clips sideways (a table's .table-wrap) keeps it within the page.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const contained = element => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== "visible") {
        const edges = box.getBoundingClientRect();
        return edges.left >= -1 && edges.right <= width + 1;
      }
    }
    return false;
  };
  const found = [];
  for (const element of document.body.querySelectorAll("*")) {
    const edges = element.getBoundingClientRect();
    if (edges.width === 0 || (edges.left >= -1 && edges.right <= width + 1) || contained(element)) continue;
    const name = element.tagName.toLowerCase() + (element.id ? "#" + element.id : "") +
      [...element.classList].map(c => "." + c).join("");
    found.push(`${name} [${Math.round(edges.left)}, ${Math.round(edges.right)}] ` +
               (element.textContent || "").trim().slice(0, 40));
  }
  if (document.documentElement.scrollWidth > width) found.push(`the page scrolls sideways to ${document.documentElement.scrollWidth}`);
  return found;
}"""


# On a desktop screen: tables that do not fit their box, table headings, figures and times that
# wrap onto a second line, and placeholders cut off by their field.
_CRAMPED = """() => {
  const found = [];
  for (const box of document.querySelectorAll(".table-wrap")) {
    if (box.scrollWidth > box.clientWidth) found.push(`a table scrolls: ${box.getAttribute("aria-label")}`);
  }
  for (const cell of document.querySelectorAll(".table thead th, .table .num, .table time")) {
    const lines = new Set();
    const texts = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) {
      if (texts.currentNode.parentElement.closest(".visually-hidden")) continue;
      const range = document.createRange();
      range.selectNodeContents(texts.currentNode);
      for (const rect of range.getClientRects()) lines.add(Math.round(rect.bottom));
    }
    if (lines.size > 1) found.push(`wraps: ${cell.textContent.trim()}`);
  }
  const measure = document.createElement("canvas").getContext("2d");
  for (const field of document.querySelectorAll("input[placeholder]")) {
    const style = getComputedStyle(field);
    measure.font = style.font;
    const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (field.offsetParent && measure.measureText(field.placeholder).width > room) found.push(`cut off: ${field.placeholder}`);
  }
  return found;
}"""


# The element that has the keyboard's focus: what it is, whether a ring of at least 2px shows
# around it, with 3:1 contrast against the background it is drawn on (WCAG 2.2, 1.4.11), and
# whether it is on the screen.
_FOCUSED = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const luminance = color => {
    const [r, g, b] = color.match(/[\\d.]+/g).slice(0, 3).map(value => {
      const c = value / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  let behind = element.parentElement;  // the ring is drawn outside the element
  while (behind && getComputedStyle(behind).backgroundColor === "rgba(0, 0, 0, 0)") behind = behind.parentElement;
  const style = getComputedStyle(element);
  const [light, dark] = [luminance(style.outlineColor),
    luminance(behind ? getComputedStyle(behind).backgroundColor : "rgb(255, 255, 255)")].sort((a, b) => b - a);
  const edges = element.getBoundingClientRect();
  return {
    name: element.tagName.toLowerCase() + " " + (element.getAttribute("aria-label") || element.textContent).trim().slice(0, 40),
    ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 && (light + 0.05) / (dark + 0.05) >= 3,
    shown: edges.bottom > 0 && edges.top < window.innerHeight && edges.right > 0 && edges.left < window.innerWidth,
  };
}"""


def with_axe(context):
    """The browser context, with axe-core added to each page it opens (before the page's own
    scripts, and whatever its Content-Security-Policy allows)."""
    context.add_init_script(path=str(AXE))
    return context


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    return page.evaluate(_AXE_RUN, list(SERIOUS))


def overflowing(page) -> list[str]:
    """The elements that stick out of the page sideways, and whether the page scrolls sideways."""
    return page.evaluate(_OVERFLOWING)


def cramped(page) -> list[str]:
    """What does not fit on a desktop screen though it should: a table that scrolls, a table
    heading, figure or time on two lines, a placeholder cut off."""
    return page.evaluate(_CRAMPED)


def unseen_focus(page, *, most: int = 80) -> list[str]:
    """Tab through the page from its start: every stop that shows no focus ring or is off the
    screen. Ends where the focus leaves the page or comes back to its first stop."""
    found, first = [], None
    for _ in range(most):
        page.keyboard.press("Tab")
        focused = page.evaluate(_FOCUSED)
        if focused is None or focused == first:
            break
        first = first or focused
        if not (focused["ring"] and focused["shown"]):
            found.append(f"{focused['name']}: {'off the screen' if focused['ring'] else 'no focus ring that stands out'}")
    return found
