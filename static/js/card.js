// The "How to refer us" card's buttons (templates/referrals/card*.html):
// data-copy copies the text of the element it names (an input's value, or a
// <pre>'s text) and says so in the role="status" beside it; data-print opens
// the browser's print dialog (Save as PDF is one of its printers). Without
// JavaScript the buttons stay hidden: the text is there to select.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const source = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector("[role=status]");
  button.hidden = false;
  button.addEventListener("click", async () => {
    const text = source.matches("input, textarea") ? source.value : source.innerText;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "Copied.";
    } catch {
      // No clipboard (a page served over plain http, or refused): select the
      // text, for Ctrl+C.
      if (source.select) {
        source.select();
      } else {
        window.getSelection().selectAllChildren(source);
      }
      status.textContent = "Selected: press Ctrl+C to copy.";
    }
    setTimeout(() => (status.textContent = ""), 4000);
  });
}
for (const button of document.querySelectorAll("button[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
