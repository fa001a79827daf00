// The folded navigation of narrow screens: a Menu button opens it; a choice, Escape or a
// click elsewhere closes it. Wide screens show the links and never the button (CSS).

export function foldable(button, nav) {
  const header = nav.parentElement;
  const set = (open) => {
    button.setAttribute("aria-expanded", String(open));
    header.classList.toggle("open", open);
  };
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
  window.addEventListener("hashchange", () => set(false));
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
    set(false);
    button.focus();
  });
  document.addEventListener("click", (e) => {
    if (!header.contains(e.target)) set(false);
  });
  return { show: (shown) => { button.hidden = !shown; set(false); } };
}
