// The window's small behaviours: select-all, the selection count, "all rows matching the
// filter", and bulk buttons that only make sense with a selection. Everything works without
// JavaScript too (the server checks the selection again).
(() => {
  const rows = () => Array.from(document.querySelectorAll(".js-select-row"));
  const matching = () => document.getElementById("select-all-matching");

  function refresh() {
    const all = matching();
    const boxes = rows();
    const ticked = boxes.filter((b) => b.checked).length;
    const allMatching = Boolean(all && all.checked);
    const counter = document.querySelector(".selection-count");
    if (counter) {
      counter.textContent = allMatching
        ? counter.dataset.all
        : ticked
          ? counter.dataset.some.replace("%(n)s", ticked)
          : counter.dataset.none;
      counter.classList.toggle("text-body-secondary", !ticked && !allMatching);
      counter.classList.toggle("fw-semibold", Boolean(ticked || allMatching));
    }
    document.querySelectorAll(".js-bulk-action").forEach((button) => {
      const selectedOnly = button.dataset.selectedOnly === "1";
      button.disabled = selectedOnly ? allMatching || !ticked : !(ticked || allMatching);
    });
    const head = document.querySelector(".js-select-all");
    if (head) {
      head.checked = boxes.length > 0 && ticked === boxes.length;
      head.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    const hint = document.querySelector(".select-matching-hint");
    if (hint) {
      hint.classList.toggle("d-none", !(boxes.length > 0 && ticked === boxes.length && !allMatching));
    }
    boxes.forEach((b) => b.closest("tr")?.classList.toggle("table-active", b.checked || allMatching));
  }

  document.addEventListener("change", (event) => {
    const box = event.target;
    if (box.classList.contains("js-select-all")) {
      rows().forEach((row) => { row.checked = box.checked; });
      if (!box.checked && matching()) matching().checked = false;
    }
    if (box.classList.contains("js-select-row") && !box.checked && matching()) {
      matching().checked = false;
    }
    if (box.id === "select-all-matching") {
      rows().forEach((row) => { row.checked = box.checked; });
    }
    refresh();
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest(".js-select-matching") && matching()) {
      matching().checked = true;
      refresh();
    }
  });

  document.addEventListener("DOMContentLoaded", refresh);
  if (document.readyState !== "loading") refresh();
})();
