// Progressive enhancement only: every page works without JavaScript.
document.addEventListener('DOMContentLoaded', function () {
  // New ticket forms: only the custom fields of the chosen help topic are shown (without JavaScript
  // every field is, each saying which topics it is for; the server keeps the chosen topic's only).
  document.querySelectorAll('[data-topic-fields]').forEach(function (box) {
    var select = document.getElementById(box.getAttribute('data-topic-fields'));
    var show = function () {
      var topic = select ? select.value : '';
      box.querySelectorAll('.custom-field').forEach(function (f) {
        var topics = (f.getAttribute('data-topics') || '').split(',').filter(Boolean);
        f.hidden = topics.length > 0 && topics.indexOf(topic) < 0;
      });
      box.hidden = !box.querySelector('.custom-field:not([hidden])');
    };
    if (select) select.addEventListener('change', show);
    show();
  });
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
  // Canned responses: inserted where the agent is typing, keeping what is already written (without
  // JavaScript, Insert reloads the page with the reply set to the canned text).
  document.querySelectorAll('form.canned-form').forEach(function (form) {
    form.addEventListener('submit', function (e) {
      var box = document.getElementById(form.getAttribute('data-canned-into'));
      var id = form.querySelector('select').value;
      if (!box || !window.fetch) return;
      e.preventDefault();
      fetch(form.getAttribute('data-canned-url') + encodeURIComponent(id), { credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (text) {
          var start = box.selectionStart, end = box.selectionEnd;
          box.value = box.value.slice(0, start) + text + box.value.slice(end);
          box.focus();
          box.selectionStart = box.selectionEnd = start + text.length;
        })
        .catch(function () { form.submit(); });
    });
  });
  // Reply signatures: only the chosen one's text is shown (without JavaScript, each is, labelled).
  document.querySelectorAll('.signature-choice select').forEach(function (select) {
    var previews = select.form.querySelectorAll('.signature-preview');
    var show = function () {
      previews.forEach(function (p) { p.hidden = p.getAttribute('data-signature') !== select.value; });
    };
    select.addEventListener('change', show);
    show();
  });
  // Queue: one box ticks every ticket of the page for a bulk action (without JavaScript, tick each).
  document.querySelectorAll('.select-all').forEach(function (all) {
    var boxes = document.querySelectorAll('input[name="ids"][form="bulk-form"]');
    all.hidden = false;
    all.addEventListener('change', function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
    });
  });
  // Move focus to the error summary after a failed submit.
  var errs = document.getElementById('form-errors');
  if (errs) errs.focus();
});
