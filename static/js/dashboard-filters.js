// The dashboard's filter bar: a date picked makes the period Custom, and a
// preset picked puts the dates aside (they count only for a custom period),
// so the bar shows what will be counted. Custom again brings them back: the
// arrow keys on the period box pass over the presets one by one.
for (const form of document.querySelectorAll("form[data-period-dates]")) {
  const period = form.elements.period;
  const dates = [form.elements.start, form.elements.end];
  let kept = dates.map((input) => input.value);
  for (const input of dates) {
    input.addEventListener("change", () => {
      if (input.value) period.value = "custom";
    });
  }
  period.addEventListener("change", () => {
    if (period.value === "custom") {
      dates.forEach((input, i) => (input.value = input.value || kept[i]));
    } else if (dates.some((input) => input.value)) {
      kept = dates.map((input) => input.value);
      dates.forEach((input) => (input.value = ""));
    }
  });
}
