// Move keyboard and screen-reader focus to the page's notice or alert, if any.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const alert = document.querySelector("[data-focus]");
  if (alert) alert.focus();
});
