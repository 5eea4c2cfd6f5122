// Progressive enhancement only: every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // a header checkbox selects every row checkbox of the same name in its form
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("change", () => {
      const boxes = all.form.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`);
      for (const box of boxes) box.checked = all.checked;
    });
  }
  // buttons that destroy something ask first
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  // a typed confirmation enables its button only once it matches
  for (const input of document.querySelectorAll("input[data-must-equal]")) {
    const button = input.form.querySelector("button");
    const check = () => { button.disabled = input.value !== input.dataset.mustEqual; };
    input.addEventListener("input", check);
    check();
  }
  // Escape closes an open task panel
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && location.hash.startsWith("#task-")) location.hash = "#diagram";
  });
});
