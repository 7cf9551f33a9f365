// Select-all for the bulk-action checkboxes of a table.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.classList.contains("js-select-all")) {
    document.querySelectorAll(".js-select-row").forEach((row) => { row.checked = box.checked; });
  }
});
