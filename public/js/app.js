// Progressive enhancement only: every page works without JavaScript.
document.addEventListener('DOMContentLoaded', function () {
  // Confirm destructive actions: <form data-confirm="Really delete?">
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      if (!window.confirm(form.getAttribute('data-confirm'))) e.preventDefault();
    });
  });
  // Reports: choosing a date means a custom period (without JavaScript the form's hint says so).
  var period = document.querySelector('.report-form select[name=period]');
  if (period) {
    document.querySelectorAll('.report-form input[type=date]').forEach(function (input) {
      input.addEventListener('change', function () { period.value = 'custom'; });
    });
  }
  // Move focus to the error summary after a failed submit.
  var errs = document.getElementById('form-errors');
  if (errs) errs.focus();
});
