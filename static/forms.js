// Help with the pages' forms, none of it needed to send them: ICD-10 codes looked up as they
// are typed, long lists of options narrowed by a filter box, and an ID number checked as typed.

// <input data-icd10 list="X">: the datalist X offers codes matching what is typed.
for (const input of document.querySelectorAll('input[data-icd10]')) {
  const list = document.getElementById(input.getAttribute('list'));
  let timer;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const text = input.value.trim();
      if (!text || /\s/.test(text)) return;
      const response = await fetch('/icd10?q=' + encodeURIComponent(text));
      if (!response.ok) return;
      const found = await response.json();
      list.replaceChildren(...found.map(({ code, name }) => {
        const option = document.createElement('option');
        option.value = code + ' ' + name;
        return option;
      }));
    }, 150);
  });
}

// <input data-filter="SELECT">: only the options of SELECT containing the text stay visible.
for (const input of document.querySelectorAll('input[data-filter]')) {
  const select = document.getElementById(input.dataset.filter);
  input.addEventListener('input', () => {
    const text = input.value.trim();
    for (const option of select.querySelectorAll('option')) {
      option.hidden = text !== '' && !option.textContent.includes(text);
    }
    const selected = select.selectedOptions[0];
    if (!selected || selected.hidden) {
      const first = [...select.options].find((o) => !o.hidden && o.value);
      if (first) first.selected = true;
    }
  });
}

// <input data-id-number> with <output data-id-number-for="NAME">: the birth date and sex an
// 18-digit resident ID number (GB 11643) gives, or what is wrong with it.
for (const input of document.querySelectorAll('input[data-id-number]')) {
  const output = document.querySelector(`output[data-id-number-for="${input.name}"]`);
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const check = (value) => {
    if (value.length < 18) return value ? `已输入 ${value.length} 位，共 18 位` : '';
    if (!/^\d{17}[\dX]$/.test(value)) return '前 17 位须为数字，最后一位为数字或 X';
    const sum = weights.reduce((s, w, i) => s + w * Number(value[i]), 0);
    if ('10X98765432'[sum % 11] !== value[17]) return '校验码不符，请核对';
    const [y, m, d] = [value.slice(6, 10), value.slice(10, 12), value.slice(12, 14)];
    const date = new Date(`${y}-${m}-${d}T00:00:00Z`);
    if (isNaN(date) || date.getUTCMonth() + 1 !== Number(m)) return '出生日期无效';
    return `出生日期 ${y}-${m}-${d}，${Number(value[16]) % 2 ? '男' : '女'}`;
  };
  const show = () => {
    const message = check(input.value.trim().toUpperCase());
    output.textContent = message;
    output.className = /须|不符|无效/.test(message) ? 'error' : 'muted';
  };
  input.addEventListener('input', show);
  show();
}

// <button data-print>: prints the page.
for (const button of document.querySelectorAll('button[data-print]')) {
  button.addEventListener('click', () => window.print());
}

// <div data-drop-for="INPUT">: files dropped on the area become INPUT's files (a WFDB .hea
// with its .dat, or one file), and the chosen names are listed in its <output data-drop-list>.
for (const zone of document.querySelectorAll('[data-drop-for]')) {
  const input = document.getElementById(zone.dataset.dropFor);
  const list = zone.querySelector('output[data-drop-list]');
  const show = () => {
    if (list) list.textContent = [...input.files].map((f) => f.name).join('、');
  };
  input.addEventListener('change', show);
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('dragging');
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    show();
  });
}

// <form data-decision="URL">: as values are typed, the server's decision by the rules is shown
// in the form's #decision (the form is sent as a query; nothing is stored).
for (const form of document.querySelectorAll('form[data-decision]')) {
  const output = form.querySelector('#decision');
  let timer;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = new URLSearchParams(new FormData(form));
      const response = await fetch(form.dataset.decision + '?' + query);
      if (response.ok) output.innerHTML = await response.text();
    }, 250);
  };
  form.addEventListener('input', refresh);
  form.addEventListener('change', refresh);
}
