// Small progressive enhancement; every page works without it.
// - [data-copy="id"] buttons copy the value of the input with that id.
// - forms with data-confirm ask before they are sent.
document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-copy]");
  if (!b) return;
  const input = document.getElementById(b.dataset.copy);
  if (!input) return;
  input.select();
  if (navigator.clipboard) {
    navigator.clipboard.writeText(input.value).then(() => { b.textContent = "Copied"; }, () => {});
  }
});
document.addEventListener("submit", (e) => {
  const f = e.target;
  if (f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
    e.preventDefault();
  }
});
// - input[type=file][data-fill="id"] reads the chosen file into the textarea with that id.
document.addEventListener("change", (e) => {
  const input = e.target;
  if (!input.dataset || !input.dataset.fill || !input.files || !input.files[0]) return;
  const target = document.getElementById(input.dataset.fill);
  if (!target) return;
  input.files[0].text().then((text) => { target.value = text; });
});
