// The household's countersign page: /v/{token} from the QR, or /v to type the 6-digit code.
"use strict";
(function () {
  var API = "/api/v1/public/countersign";
  var $ = function (id) { return document.getElementById(id); };
  var SAT = ["非常不满意", "不满意", "一般", "满意", "非常满意"];
  var token = decodeURIComponent((location.pathname.match(/^\/v\/([^/]+)/) || [])[1] || "");
  var WORDS = {
    already_answered: "这次走访已经确认过了，谢谢。", expired: "确认时间已过（走访后 30 分钟内有效）。",
    too_many_attempts: "尝试次数过多，请稍后再试。"
  };
  function problem(r, b) {
    if (b && WORDS[b.code]) return WORDS[b.code];
    if (r.status === 404) return "链接或确认码无效，请核对。";
    if (r.status === 410) return WORDS.expired;
    return (b && (b.detail || b.title)) || "出错了，请稍后再试。";
  }
  function send(method, url, body) {
    return fetch(url, {
      method: method, credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept-Language": "zh-CN" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { r: r, b: b }; });
    }, function () { return { r: { ok: false, status: 0 }, b: { detail: "网络不通，请稍后再试。" } }; });
  }
  function say(text) { $("msg").textContent = text || ""; $("msg").className = text ? "error" : ""; }
  function ask() {
    $("code-form").hidden = true;
    send("GET", API + "/" + encodeURIComponent(token)).then(function (x) {
      if (!x.r.ok) { say(problem(x.r, x.b)); return; }
      var at = new Date(x.b.visited_at).toLocaleString("zh-CN", { hour12: false, month: "long", day: "numeric", hour: "2-digit", minute: "2-digit" });
      $("who").textContent = x.b.village_name + "驻村干部 " + x.b.member_name + "，" + at + " 到您家走访。";
      $("ask").hidden = false;
      document.body.setAttribute("data-ready", "1");
    });
  }
  function answer(confirmed) {
    var knows = document.querySelector("input[name=knows]:checked");
    var sat = document.querySelector("input[name=sat]:checked");
    if (!knows) { say("请先选择：您认识这位干部吗？"); return; }
    ["yes", "no"].forEach(function (id) { $(id).disabled = true; });
    send("POST", API + "/" + encodeURIComponent(token), {
      confirmed: confirmed, knows_member: knows.value === "yes",
      satisfaction: sat ? Number(sat.value) : null, comment: $("comment").value
    }).then(function (x) {
      ["yes", "no"].forEach(function (id) { $(id).disabled = false; });
      if (!x.r.ok) { say(problem(x.r, x.b)); return; }
      say("");
      $("ask").hidden = true; $("done").hidden = false;
      $("done-text").textContent = confirmed ? "已确认走访，谢谢您！" : "已记录“没有来过”，谢谢您如实反映！";
      $("receipt").textContent = x.b.receipt;
    });
  }
  SAT.forEach(function (t, i) {
    var lab = document.createElement("label"), box = document.createElement("input");
    box.type = "radio"; box.name = "sat"; box.value = String(i + 1);
    lab.appendChild(box); lab.appendChild(document.createTextNode(" " + t));
    $("stars").appendChild(lab);
  });
  $("yes").addEventListener("click", function () { answer(true); });
  $("no").addEventListener("click", function () { answer(false); });
  $("code-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    send("POST", API, { code: $("code").value.trim() }).then(function (x) {
      if (!x.r.ok) { say(problem(x.r, x.b)); return; }
      say(""); token = x.b.token; ask();
    });
  });
  if (token) ask(); else { $("code-form").hidden = false; document.body.setAttribute("data-ready", "1"); }
})();
