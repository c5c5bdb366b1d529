// The survey page /s/{code}: a villager answers with the code of the card they were handed.
"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var code = decodeURIComponent((location.pathname.match(/^\/s\/([^/]+)/) || [])[1] || "");
  var API = "/api/v1/public/surveys/" + encodeURIComponent(code);
  var SCALE = ["非常不满意", "不满意", "一般", "满意", "非常满意"];
  var KNOWN = ["不认识", "不太认识", "一般", "比较熟悉", "很熟悉"];
  var PRESENCE = ["从不在", "很少在", "有时在", "经常在", "一直在"];
  var VISITED = ["从没来过", "很少来", "来过几次", "经常来", "每月都来"];
  var WORDS = {
    already_answered: "这张卡已经答过了，谢谢。", survey_closed: "本次测评不在开放时间内。",
    too_many_attempts: "提交太频繁，请稍后再试。"
  };
  var questions = [];
  function say(text) { $("msg").textContent = text || ""; $("msg").className = text ? "error" : ""; }
  function problem(r, b) {
    if (b && WORDS[b.code]) return WORDS[b.code];
    if (r.status === 404) return "测评码无效，请核对卡片。";
    if (r.status === 410) return WORDS.survey_closed;
    if (r.status === 429) return WORDS.too_many_attempts;
    return (b && (b.detail || b.title)) || "出错了，请稍后再试。";
  }
  function send(method, body) {
    return fetch(API, {
      method: method, credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept-Language": "zh-CN" },
      body: body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (b) { return { r: r, b: b }; });
    }, function () { return { r: { ok: false, status: 0 }, b: { detail: "网络不通，请稍后再试。" } }; });
  }
  function draw(s) {
    if (s.title) { $("title").textContent = s.title; document.title = s.title; }
    $("intro").textContent = s.village_name + "驻村工作队：" + (s.team || []).join("、") + "。请根据您的了解作答。";
    questions = s.questions || [];
    questions.forEach(function (q, n) {
      var fs = document.createElement("fieldset"), lg = document.createElement("legend"), box = document.createElement("div");
      lg.textContent = (n + 1) + ". " + q.text;
      box.className = "choices";
      var words = { known: KNOWN, presence: PRESENCE, visited: VISITED }[q.kind] || SCALE;
      words.map(function (w, i) { return [String(i + 1), w]; }).concat([["unknown", "不清楚"]]).forEach(function (o) {
        var lab = document.createElement("label"), input = document.createElement("input");
        input.type = "radio"; input.name = q.id; input.value = o[0]; input.required = true;
        lab.appendChild(input); lab.appendChild(document.createTextNode(" " + o[1]));
        box.appendChild(lab);
      });
      fs.appendChild(lg); fs.appendChild(box);
      $("questions").appendChild(fs);
    });
    $("survey").hidden = false;
  }
  $("survey").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var answers = {};
    questions.forEach(function (q) {
      var c = document.querySelector("input[name='" + q.id + "']:checked");
      answers[q.id] = c.value === "unknown" ? "unknown" : Number(c.value);
    });
    send("POST", { answers: answers, comment: $("comment").value }).then(function (x) {
      if (!x.r.ok) { say(problem(x.r, x.b)); return; }
      say(""); $("survey").hidden = true; $("done").hidden = false;
      $("receipt").textContent = x.b.receipt;
    });
  });
  send("GET").then(function (x) {
    if (x.r.ok) draw(x.b); else say(problem(x.r, x.b));
    document.body.setAttribute("data-ready", "1");
  });
})();
