// csatbot demo: a page that plays the Slack workspace. It renders the Block Kit the bot
// sends (and a visible placeholder for any block it does not know), and turns every click
// and command into a call of the demo API, which signs it like Slack and sends it to the bot.
"use strict";

const TEXT = {
  "zh-CN": {
    workspace: "csatbot 演示工作区", you_are: "我是", demo_time: "演示时间", go: "前往", send: "发送",
    composer: "输入 /csat help 或 /complaint …", channels: "频道", direct: "私信", home: "主页",
    only_you: "仅您可见", replies: "条回复", thread: "讨论串", close: "关闭", unknown_block: "不支持的块",
    unknown_command: "未知命令", moved: "时间已前进；到期的提醒和预警已发出。",
    past: "演示时间只能向前：到现在为止到期的消息都已发出，倒回去会再发一遍。请选一个更晚的时间。",
    unreadable: "看不懂这个时间，请用日期时间选择器。", no_files: "演示中不能上传文件",
    optional: "（选填）",
    choose: "请选择…", edited: "（已编辑）", loading: "加载中…", error: "出错了：",
    next_opening: "下个月度填报开放日",
  },
  en: {
    workspace: "csatbot demo workspace", you_are: "I am", demo_time: "Demo time", go: "Go", send: "Send",
    composer: "Type /csat help or /complaint …", channels: "Channels", direct: "Direct messages", home: "Home",
    only_you: "Only visible to you", replies: "replies", thread: "Thread", close: "Close",
    unknown_block: "Unsupported block", unknown_command: "Unknown command",
    moved: "Time moved; what was due then has been sent.",
    past: "The demo's time only moves forward: what was due up to now has been sent, and going back would send it again. Pick a later moment.",
    unreadable: "That time cannot be read; use the date and time picker.", optional: "(optional)",
    no_files: "File upload is not available in the demo", choose: "Choose…", edited: "(edited)",
    loading: "Loading…", error: "Error: ", next_opening: "Next monthly call opens",
  },
};

const state = { user: null, people: [], view: "C0QUALITY", thread: null, data: null, modalId: null, bot: null };
const $ = (selector) => document.querySelector(selector);

function locale() {
  const me = state.people.find((p) => p.slack_user_id === state.user);
  return me && me.locale === "en" ? "en" : "zh-CN";
}
function t(key) { return TEXT[locale()][key] || key; }

async function api(path, body) {
  const options = body === undefined ? {} : { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } };
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// --- text --------------------------------------------------------------------------------------------

function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

// Slack mrkdwn: the bot escapes &, < and > in what it sends, so what remains of < > is markup.
function mrkdwn(text) {
  const tokens = [];
  let html = String(text).replace(/<@([UW][A-Z0-9]+)(\|[^>]*)?>/g, (_m, id) => {
    tokens.push(`<span class="mention">@${escapeHtml((state.data && state.data.names[id]) || id)}</span>`);
    return `\u0000${tokens.length - 1}\u0000`;
  }).replace(/<(https?:[^|>]+)\|([^>]+)>/g, (_m, url, label) => {
    tokens.push(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${label}</a>`);
    return `\u0000${tokens.length - 1}\u0000`;
  }).replace(/(^|[\s(])(https?:\/\/[^\s<>|]+)/g, (_m, before, url) => {  // Slack links a bare address too
    tokens.push(`<a href="${escapeHtml(url)}" target="_blank" rel="noopener">${escapeHtml(url)}</a>`);
    return `${before}\u0000${tokens.length - 1}\u0000`;
  });
  html = html.replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  html = html.replace(/```([\s\S]*?)```/g, (_m, code) => { tokens.push(`<pre>${code}</pre>`); return `\u0000${tokens.length - 1}\u0000`; });
  html = html.replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>")
    .replace(/\n/g, "<br>");
  return html.replace(/\u0000(\d+)\u0000/g, (_m, i) => tokens[Number(i)]);
}

function textObject(object) {
  if (!object) return "";
  return object.type === "mrkdwn" ? mrkdwn(object.text) : escapeHtml(object.text);
}

// --- Block Kit ---------------------------------------------------------------------------------------

function el(tag, attrs = {}, html) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  if (html !== undefined) node.innerHTML = html;
  return node;
}

function button(element, context) {
  const node = el("button", { class: `bk ${element.style || ""}`, "data-action": element.action_id, type: "button" },
    textObject(element.text));
  node.addEventListener("click", () => act(element, context));
  return node;
}

function renderBlocks(blocks, context) {
  const box = el("div");
  for (const block of blocks || []) {
    const node = el("div", { class: `block ${block.type}`, "data-block": block.type });
    switch (block.type) {
      case "header": node.appendChild(el("h3", {}, textObject(block.text))); break;
      case "section":
        if (block.text) node.appendChild(el("div", {}, textObject(block.text)));
        if (block.fields) {
          const grid = el("div", { class: "fields" });
          block.fields.forEach((f) => grid.appendChild(el("div", {}, textObject(f))));
          node.appendChild(grid);
        }
        if (block.accessory && block.accessory.type === "button") node.appendChild(button(block.accessory, context));
        else if (block.accessory && block.accessory.type === "image") node.appendChild(el("img", { src: block.accessory.image_url, alt: block.accessory.alt_text || "", height: "64" }));
        else if (block.accessory) node.appendChild(el("span", { class: "unknown" }, `${t("unknown_block")}: ${escapeHtml(block.accessory.type)}`));
        break;
      case "context":
        node.className += " context";
        node.innerHTML = (block.elements || []).map((e) => e.type === "image"
          ? `<img src="${escapeHtml(e.image_url)}" alt="${escapeHtml(e.alt_text)}" height="16">` : textObject(e)).join(" ");
        break;
      case "divider": node.appendChild(el("hr")); break;
      case "image":
        if (block.title) node.appendChild(el("div", { class: "context" }, textObject(block.title)));
        node.appendChild(el("img", { src: block.image_url || "", alt: block.alt_text || "" }));
        break;
      case "actions":
        node.className += " actions";
        for (const element of block.elements || []) {
          if (element.type === "button") node.appendChild(button(element, { ...context, block_id: block.block_id }));
          else node.appendChild(el("span", { class: "unknown" }, `${t("unknown_block")}: ${escapeHtml(element.type)}`));
        }
        break;
      case "input":
        node.appendChild(renderInput(block, context));
        break;
      case "table": {
        // Slack draws a table block with its own columns; wide ones scroll sideways, as on a phone
        const settings = block.column_settings || [];
        const table = el("table", { class: "bk-table" });
        (block.rows || []).forEach((row, index) => {
          const tr = el("tr");
          row.forEach((cell, column) => {
            const td = el(index ? "td" : "th", {}, escapeHtml(cell.text || ""));
            const setting = settings[column] || {};
            if (setting.align) td.style.textAlign = setting.align;
            if (setting.is_wrapped) td.className = "wrap";
            tr.appendChild(td);
          });
          table.appendChild(tr);
        });
        const scroller = el("div", { class: "table-scroll" });
        scroller.appendChild(table);
        node.appendChild(scroller);
        break;
      }
      default:
        node.className += " unknown";
        node.textContent = `${t("unknown_block")}: ${block.type}`;
    }
    box.appendChild(node);
  }
  return box;
}

function renderInput(block, context) {
  const wrap = el("div", { class: "input", "data-input": block.block_id });
  const element = block.element;
  wrap.appendChild(el("label", { for: `in-${block.block_id}` },
    textObject(block.label) + (block.optional ? ` <span class="optional">${escapeHtml(t("optional"))}</span>` : "")));
  let control;
  const id = `in-${block.block_id}`;
  switch (element.type) {
    case "plain_text_input":
      control = element.multiline ? el("textarea", { id }) : el("input", { id, type: "text" });
      if (element.initial_value) control.value = element.initial_value;
      if (element.placeholder) control.placeholder = element.placeholder.text;
      break;
    case "number_input":
      control = el("input", { id, type: "text", inputmode: "decimal" });
      if (element.initial_value) control.value = element.initial_value;
      break;
    case "static_select": {
      control = el("select", { id });
      control.appendChild(el("option", { value: "" }, escapeHtml(t("choose"))));
      const add = (parent, option) => parent.appendChild(el("option", { value: option.value }, textObject(option.text)));
      (element.options || []).forEach((o) => add(control, o));
      (element.option_groups || []).forEach((group) => {
        const node = el("optgroup", { label: group.label.text });
        group.options.forEach((o) => add(node, o));
        control.appendChild(node);
      });
      if (element.initial_option) control.value = element.initial_option.value;
      break;
    }
    case "users_select": {
      control = el("select", { id });
      control.appendChild(el("option", { value: "" }, escapeHtml(t("choose"))));
      state.people.forEach((p) => control.appendChild(el("option", { value: p.slack_user_id }, escapeHtml(p.name))));
      if (element.initial_user) control.value = element.initial_user;
      break;
    }
    case "external_select":
      control = typeahead(id, element, block, context);
      break;
    case "datepicker":
      control = el("input", { id, type: "date" });
      if (element.initial_date) control.value = element.initial_date;
      break;
    case "datetimepicker": {
      control = el("input", { id, type: "datetime-local" });
      if (element.initial_date_time) {
        // shown in the company's time zone, as every time in the workspace
        const local = new Date((element.initial_date_time + offsetMinutes() * 60) * 1000);
        control.value = local.toISOString().slice(0, 16);
      }
      break;
    }
    case "file_input":
      control = el("div", { id, class: "file-note context" }, escapeHtml(t("no_files")));
      break;
    default:
      control = el("div", { id, class: "unknown" }, `${t("unknown_block")}: ${escapeHtml(element.type)}`);
  }
  control.dataset.kind = element.type;
  control.dataset.action = element.action_id;
  wrap.appendChild(control);
  if (block.hint) wrap.appendChild(el("div", { class: "hint" }, textObject(block.hint)));
  wrap.appendChild(el("div", { class: "error", "data-error": block.block_id }));
  return wrap;
}

function typeahead(id, element, block, context) {
  const box = el("div", { class: "typeahead", id });
  const input = el("input", { type: "text", "data-role": "search" });
  const list = el("ul", { class: "hidden" });
  box.appendChild(input);
  box.appendChild(list);
  if (element.initial_option) {
    box.dataset.value = element.initial_option.value;
    input.value = element.initial_option.text.text;
  }
  let timer;
  input.addEventListener("input", () => {
    box.dataset.value = "";
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const data = await api("/api/options", { user: state.user, action_id: element.action_id, value: input.value, view_id: context.view_id });
      list.innerHTML = "";
      (data.options || []).forEach((option) => {
        const item = el("li", { "data-value": option.value }, textObject(option.text));
        item.addEventListener("mousedown", () => {
          box.dataset.value = option.value;
          input.value = option.text.text;
          list.classList.add("hidden");
        });
        list.appendChild(item);
      });
      list.classList.toggle("hidden", !(data.options || []).length);
    }, 150);
  });
  input.addEventListener("blur", () => setTimeout(() => list.classList.add("hidden"), 150));
  return box;
}

function formValues(form) {
  const values = {};
  form.querySelectorAll("[data-kind]").forEach((control) => {
    const block = control.closest("[data-input]").dataset.input;
    const action = control.dataset.action;
    const kind = control.dataset.kind;
    let entry;
    if (kind === "plain_text_input" || kind === "number_input") entry = { type: kind, value: control.value };
    else if (kind === "static_select") entry = { type: kind, selected_option: control.value ? { value: control.value } : null };
    else if (kind === "external_select") entry = { type: kind, selected_option: control.dataset.value ? { value: control.dataset.value } : null };
    else if (kind === "users_select") entry = { type: kind, selected_user: control.value || null };
    else if (kind === "datepicker") entry = { type: kind, selected_date: control.value || null };
    else if (kind === "datetimepicker") entry = { type: kind, selected_date_time: control.value ? Math.floor(Date.parse(`${control.value}:00Z`) / 1000) - offsetMinutes() * 60 : null };
    else if (kind === "file_input") entry = { type: kind, files: [] };
    else return;
    values[block] = { [action]: entry };
  });
  return values;
}

// --- what a person does --------------------------------------------------------------------------------

async function act(element, context) {
  await api("/api/action", {
    user: state.user, action_id: element.action_id, value: element.value || "", block_id: context.block_id || "b",
    channel: context.channel, message_ts: context.ts, source: context.source, view_id: context.view_id,
  });
  await refresh();
  setTimeout(refresh, 400);
}

async function command(text) {
  const result = await api("/api/command", { user: state.user, channel: currentChannel(), text });
  if (result.unknown_command !== undefined) alert(`${t("unknown_command")}: ${text}`);
  await refresh();
  setTimeout(refresh, 500);
}

function offsetMinutes() {
  return state.data ? state.data.utc_offset_minutes : 480;
}

function currentChannel() {
  if (state.view === "home") return state.data ? state.data.channels.find((c) => c.kind === "dm").id : null;
  return state.view;
}

// --- drawing -----------------------------------------------------------------------------------------------

function messageNode(message, channel, extra = {}) {
  const node = el("div", { class: `msg ${extra.ephemeral ? "ephemeral" : ""}`, "data-ts": message.ts || "" });
  const author = (state.data.names && state.data.names[message.user]) || "csatbot";
  node.appendChild(el("div", {}, `<span class="who">${escapeHtml(author)}</span>`
    + (extra.ephemeral ? ` <span class="only">${escapeHtml(t("only_you"))}</span>` : "")
    + (message.edited ? ` <span class="edited">${escapeHtml(t("edited"))}</span>` : "")));
  const context = { channel, ts: message.ts, source: "message" };
  if (message.blocks && message.blocks.length) node.appendChild(renderBlocks(message.blocks, context));
  else if (message.text) node.appendChild(el("div", {}, mrkdwn(message.text)));
  for (const attachment of message.attachments || []) {
    const box = renderBlocks(attachment.blocks, context);
    box.className = "attachment";
    node.appendChild(box);
  }
  for (const file of message.files || []) {
    if (/\.png$/i.test(file.name || ".png")) {
      node.appendChild(el("div", { class: "context" }, escapeHtml(file.title || file.name || "")));
      node.appendChild(el("img", { class: "chart", src: `/api/file/${file.id}`, alt: file.title || "", "data-file": file.id }));
    } else {  // a workbook: a link that downloads it
      node.appendChild(el("a", { class: "file", href: `/api/file/${file.id}`, download: file.name || "", "data-file": file.id },
        `📎 ${escapeHtml(file.title || file.name || "")}`));
    }
  }
  const replies = (state.data.threads || {})[message.ts];
  if (!extra.inThread && replies && replies.length) {
    node.appendChild(el("div", { class: "replies", "data-testid": "replies", onclick: () => { state.thread = message.ts; draw(); } },
      `${replies.length} ${escapeHtml(t("replies"))}`));
  }
  return node;
}

function draw() {
  const data = state.data;
  if (!data) return;
  document.documentElement.lang = locale();
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => { node.placeholder = t(node.dataset.i18nPlaceholder); });
  $("#now").textContent = data.now.replace("T", " ").slice(0, 16);
  $("#jump").min = data.now.slice(0, 16);  // the picker offers no moment in the past
  const nav = $("#channels");
  nav.innerHTML = "";
  nav.appendChild(el("div", { class: "section" }, escapeHtml(t("channels"))));
  const link = (id, label) => {
    const a = el("a", { class: state.view === id ? "active" : "", "data-channel": id }, escapeHtml(label));
    a.addEventListener("click", () => { state.view = id; state.thread = null; if (id === "home") api("/api/home", { user: state.user }); refresh(); });
    nav.appendChild(a);
  };
  data.channels.filter((c) => c.kind === "channel").forEach((c) => link(c.id, `# ${c.name}`));
  nav.appendChild(el("div", { class: "section" }, escapeHtml(t("direct"))));
  data.channels.filter((c) => c.kind === "dm").forEach((c) => link(c.id, `● ${c.name}`));
  link("home", `⌂ csatbot ${t("home")}`);

  const box = $("#messages");
  const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 40;
  box.innerHTML = "";
  if (state.view === "home") {
    $("#title").textContent = `csatbot · ${t("home")}`;
    if (data.home) box.appendChild(renderBlocks(data.home.blocks, { source: "home", channel: currentChannel() }));
  } else {
    const channel = data.channels.find((c) => c.id === state.view);
    $("#title").textContent = channel ? (channel.kind === "dm" ? `● ${channel.name}` : `# ${channel.name}`) : "";
    const items = data.messages.map((m) => ({ m, ts: parseFloat(m.ts) }))
      .concat(data.ephemeral.map((m) => ({ m, ts: parseFloat(m.ts), ephemeral: true })))
      .sort((a, b) => a.ts - b.ts);
    items.forEach((item) => box.appendChild(messageNode(item.m, state.view, { ephemeral: item.ephemeral })));
  }
  if (atBottom) box.scrollTop = box.scrollHeight;
  const pane = $("#thread");
  if (state.thread && state.view !== "home") {
    pane.classList.remove("hidden");
    pane.innerHTML = "";
    const head = el("div", { class: "msg" }, `<b>${escapeHtml(t("thread"))}</b> `);
    head.appendChild(el("button", { class: "bk", type: "button", onclick: () => { state.thread = null; draw(); } }, escapeHtml(t("close"))));
    pane.appendChild(head);
    const parent = data.messages.find((m) => m.ts === state.thread);
    if (parent) pane.appendChild(messageNode(parent, state.view, { inThread: true }));
    ((data.threads || {})[state.thread] || []).forEach((m) => pane.appendChild(messageNode(m, state.view, { inThread: true })));
  } else {
    pane.classList.add("hidden");
  }
  drawModal(data.modal);
}

function drawModal(view) {
  const layer = $("#modal-layer");
  if (!view) { layer.classList.add("hidden"); layer.innerHTML = ""; state.modalId = null; return; }
  if (state.modalId === `${view.id}:${view.hash}`) return;  // keep what is being typed
  state.modalId = `${view.id}:${view.hash}`;
  layer.innerHTML = "";
  layer.classList.remove("hidden");
  const modal = el("form", { class: "modal", "data-testid": "modal", "data-callback": view.callback_id || "" });
  modal.appendChild(el("header", {}, textObject(view.title)));
  const body = el("div", { class: "body" });
  body.appendChild(renderBlocks(view.blocks, { source: "modal", view_id: view.id }));
  modal.appendChild(body);
  const footer = el("footer");
  const close = el("button", { class: "bk", type: "button", "data-testid": "modal-close" }, textObject(view.close || { type: "plain_text", text: t("close") }));
  close.addEventListener("click", async () => {
    await api("/api/close", { user: state.user, view_id: view.id, values: formValues(modal) });
    state.modalId = null;
    await refresh();
  });
  footer.appendChild(close);
  if (view.submit) {
    footer.appendChild(el("button", { class: "bk primary", type: "submit", "data-testid": "modal-submit" }, textObject(view.submit)));
  }
  modal.appendChild(footer);
  modal.addEventListener("submit", async (event) => {
    event.preventDefault();
    modal.querySelectorAll("[data-error]").forEach((node) => { node.textContent = ""; node.parentElement.classList.remove("has-error"); });
    const result = await api("/api/submit", { user: state.user, view_id: view.id, values: formValues(modal) });
    if (result.errors) {
      for (const [block, message] of Object.entries(result.errors)) {
        const node = modal.querySelector(`[data-error="${CSS.escape(block)}"]`);
        if (node) { node.textContent = message; node.parentElement.classList.add("has-error"); }
      }
      return;  // nothing typed is lost
    }
    state.modalId = null;
    await refresh();
    setTimeout(refresh, 500);
  });
  layer.appendChild(modal);
}

async function refresh() {
  if (!state.user) return;
  const channel = state.view === "home" ? "" : state.view;
  try {
    state.data = await api(`/api/state?user=${encodeURIComponent(state.user)}&channel=${encodeURIComponent(channel)}`);
    draw();
  } catch (error) {
    $("#clock-note").textContent = t("error") + error.message;
  }
}

async function moveClock(body) {
  const result = await api("/api/clock", body);
  $("#clock-note").textContent = t(result.refused || "moved");
  await refresh();
  setTimeout(refresh, 600);
}

async function start() {
  const data = await api("/api/people");
  state.people = data.people;
  state.bot = data.bot;
  const select = $("#person");
  for (const person of state.people) {
    select.appendChild(el("option", { value: person.slack_user_id }, escapeHtml(`${person.name} · ${(person.role_names || person.roles).join("、")}`)));
  }
  const wanted = new URLSearchParams(location.search).get("user");
  const first = state.people.find((p) => p.roles.includes("quality_engineer") && p.locale !== "en") || state.people[0];
  state.user = wanted && state.people.some((p) => p.slack_user_id === wanted) ? wanted : first.slack_user_id;
  select.value = state.user;
  select.addEventListener("change", () => { state.user = select.value; state.modalId = null; state.thread = null; refresh(); });
  $("#composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("#input").value.trim();
    $("#input").value = "";
    if (text.startsWith("/")) command(text);
  });
  document.querySelectorAll("#clock [data-hours]").forEach((node) =>
    node.addEventListener("click", () => moveClock({ hours: Number(node.dataset.hours) })));
  $("#jump-go").addEventListener("click", () => { if ($("#jump").value) moveClock({ to: $("#jump").value }); });
  $("#next-opening").addEventListener("click", () => moveClock({ to: "next_opening" }));
  await refresh();
  setInterval(refresh, 1500);
}

start();
