// Small comforts only: every form works without this script.
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.check-form")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector("button[type=submit]");
      if (button) {
        button.disabled = true;
        button.textContent = "Checking…";
      }
    });
  }
  const error = document.getElementById("form-error");
  if (error) {
    const url = document.getElementById("url");
    const text = document.getElementById("text");
    (url && url.value && !(text && text.value) ? url : text)?.focus();
  }
});
