// The navigation bar's menus and the person's menu (<details> elements, which work without this script): one open at a time,
// closed by a click elsewhere or Escape.
document.addEventListener("DOMContentLoaded", () => {
  const menus = [...document.querySelectorAll(".topbar details.navmenu")];
  const closeAll = (except) => menus.forEach((menu) => { if (menu !== except) menu.open = false; });
  menus.forEach((menu) => menu.addEventListener("toggle", () => { if (menu.open) closeAll(menu); }));
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".topbar details.navmenu")) closeAll(null);
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeAll(null); });
});
