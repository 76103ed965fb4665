// csatbot demo: a page that plays a WeCom client. It shows what the bot sent a person through
// the WeCom API (markdown messages, template cards as last changed, images and files) and the
// quality group; typing, the menu and opening the app go to the bot's real /wecom/callback
// through the demo API. A link opens csatbot's own page, signed in as the person.
"use strict";

const TEXT = {
  "zh-CN": { you_are: "我是", demo_time: "演示时间", next_opening: "下个月度填报开放日", send: "发送",
             empty: "还没有消息。输入“帮助”，或点下面的菜单。", changed: "已更新", whole: "查看全部 ›" },
  en: { you_are: "I am", demo_time: "Demo time", next_opening: "Next monthly call opens", send: "Send",
        empty: "No messages yet. Type “help”, or use the menu below.", changed: "updated", whole: "See all ›" },
};
const state = { user: null, people: [], tab: "app", data: null, openMenu: null, shown: "" };
const $ = (selector) => document.querySelector(selector);

function locale() {
  const me = state.people.find((p) => p.wecom_user_id === state.user);
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

function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
function safeUrl(url) { return /^https?:\/\//.test(url) ? url : "#"; }

// WeCom markdown as csatbot writes it: **bold**, [label](url), <font color="comment">, "> " quotes;
// user text reaches it made inert (full-width look-alikes), so what is left is csatbot's own markup
function markdown(text) {
  return String(text).split("\n").map((line) => {
    let html = escapeHtml(line)
      .replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>")
      .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, (_m, label, url) => `<a href="${safeUrl(url)}" data-open="1">${label}</a>`)
      .replace(/&lt;font color=&quot;(\w+)&quot;&gt;(.*?)&lt;\/font&gt;/g, '<span class="muted">$2</span>');
    if (html.startsWith("&gt; ")) return `<blockquote>${html.slice(5)}</blockquote>`;
    return html || "<br>";
  }).join("<br>").replace(/<\/blockquote><br>/g, "</blockquote>");
}

function card(item) {
  const c = item.card;
  const parts = [`<div class="source">${escapeHtml((c.source && c.source.desc) || "")}</div>`];
  parts.push(`<h3>${escapeHtml(c.main_title.title)}</h3>`);
  if (c.main_title.desc) parts.push(`<div class="desc">${escapeHtml(c.main_title.desc)}</div>`);
  if (c.sub_title_text) parts.push(`<div class="sub">${escapeHtml(c.sub_title_text)}</div>`);
  if (c.horizontal_content_list) {
    parts.push("<dl>" + c.horizontal_content_list.map((f) => `<dt>${escapeHtml(f.keyname)}</dt><dd>${escapeHtml(f.value || "")}</dd>`).join("") + "</dl>");
  }
  parts.push('<div class="buttons">' + (c.button_list || []).map((b) =>
    `<a class="s${b.style || 1}" href="${safeUrl(b.url || "#")}" data-open="1">${escapeHtml(b.text)}</a>`).join("") + "</div>");
  if (c.card_action && c.card_action.url) parts.push(`<a class="whole" href="${safeUrl(c.card_action.url)}" data-open="1">${t("whole")}</a>`);
  if (item.changed) parts.push(`<div class="changed">${t("changed")}</div>`);
  return `<div class="msg card" data-testid="card">${parts.join("")}</div>`;
}

function render() {
  const box = $("#messages");
  const items = state.data ? (state.tab === "app" ? state.data.app : state.data.group) : [];
  const near = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const html = items.length ? items.map((item) => {
    if (item.kind === "markdown") return `<div class="msg" data-testid="message">${markdown(item.content)}</div>`;
    if (item.kind === "template_card") return card(item);
    if (item.kind === "image") return `<div class="msg"><img alt="${escapeHtml(item.name)}" src="/api/wecom/media/${encodeURIComponent(item.media)}"></div>`;
    if (item.kind === "file") return `<div class="msg">📎 <a href="/api/wecom/media/${encodeURIComponent(item.media)}" download="${escapeHtml(item.name)}">${escapeHtml(item.name)}</a></div>`;
    return `<div class="msg muted">${escapeHtml(item.kind)}</div>`;
  }).join("") : `<p class="empty">${t("empty")}</p>`;
  if (html !== state.shown) {  // unchanged: left as it is, so a press or a selection is not lost
    box.innerHTML = html;
    state.shown = html;
    if (near) box.scrollTop = box.scrollHeight;
  }
  $("#now").textContent = state.data ? state.data.now.replace("T", " ") : "";
  renderMenu();
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
}

function renderMenu() {
  const menu = (state.data && state.data.menu && state.data.menu.button) || [];
  const nav = $("#menu");
  const html = menu.map((top, i) => `<div><button data-top="${i}">${escapeHtml(top.name)}</button>` +
    (state.openMenu === i ? '<div class="subs">' + (top.sub_button || []).map((sub, j) =>
      `<button data-top="${i}" data-sub="${j}">${escapeHtml(sub.name)}</button>`).join("") + "</div>" : "") + "</div>").join("");
  if (nav.innerHTML !== html) nav.innerHTML = html;
}

async function open(url) {
  // WeCom opens a link in its own browser, signed in on csatbot's page by its OAuth2 (played by
  // the emulator); back returns to the conversation
  await api("/api/wecom/signin", { user: state.user });
  sessionStorage.setItem("csatbot-wecom-user", state.user);
  window.location.href = url;
}

async function refresh() {
  if (!state.user) return;
  state.data = await api(`/api/wecom/state?user=${encodeURIComponent(state.user)}`);
  render();
}

async function start() {
  const data = await api("/api/people");
  state.people = data.people.filter((p) => p.wecom_user_id && p.active);
  const select = $("#person");
  select.innerHTML = state.people.map((p) => `<option value="${escapeHtml(p.wecom_user_id)}">${escapeHtml(p.name)} · ${escapeHtml((p.role_names || p.roles || []).join("、"))}</option>`).join("");
  const choose = async () => {
    state.user = select.value;
    await api("/api/wecom/enter", { user: state.user });  // opening the app: what I owe
    await refresh();
  };
  select.addEventListener("change", choose);
  $("#tab-app").addEventListener("click", () => { state.tab = "app"; $("#tab-app").classList.add("on"); $("#tab-group").classList.remove("on"); render(); });
  $("#tab-group").addEventListener("click", () => { state.tab = "group"; $("#tab-group").classList.add("on"); $("#tab-app").classList.remove("on"); render(); });
  $("#composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("#input").value.trim();
    if (!text) return;
    $("#input").value = "";
    await api("/api/wecom/text", { user: state.user, text });
    setTimeout(refresh, 400);
  });
  document.addEventListener("click", async (event) => {
    const link = event.target.closest("a[data-open]");
    if (link) { event.preventDefault(); await open(link.href); return; }
    const button = event.target.closest("nav#menu button");
    if (!button) { if (state.openMenu !== null) { state.openMenu = null; renderMenu(); } return; }
    const top = Number(button.dataset.top);
    if (button.dataset.sub === undefined) { state.openMenu = state.openMenu === top ? null : top; renderMenu(); return; }
    const entry = state.data.menu.button[top].sub_button[Number(button.dataset.sub)];
    state.openMenu = null;
    renderMenu();
    if (entry.type === "view") await open(entry.url);
    else { await api("/api/wecom/click", { user: state.user, key: entry.key }); setTimeout(refresh, 400); }
  });
  document.querySelectorAll(".clock button[data-hours]").forEach((b) => b.addEventListener("click", async () => {
    await api("/api/clock", { hours: Number(b.dataset.hours) }); await refresh();
  }));
  $("#next-opening").addEventListener("click", async () => { await api("/api/clock", { to: "next_opening" }); await refresh(); });
  const back = sessionStorage.getItem("csatbot-wecom-user");
  if (back && state.people.some((p) => p.wecom_user_id === back)) select.value = back;
  if (state.people.length) await choose();
  setInterval(() => refresh().catch(() => {}), 1500);
}

start();
