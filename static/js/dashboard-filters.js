// The dashboard's filter bar: a date picked makes the period Custom, and a
// preset picked clears the dates, so the bar shows what will be counted.
// (The server counts From/To only for a Custom period.)
for (const form of document.querySelectorAll("form[data-period-dates]")) {
  const period = form.elements.period;
  const dates = [form.elements.start, form.elements.end];
  for (const input of dates) {
    input.addEventListener("change", () => {
      if (input.value) period.value = "custom";
    });
  }
  period.addEventListener("change", () => {
    if (period.value !== "custom") dates.forEach((input) => (input.value = ""));
  });
}
