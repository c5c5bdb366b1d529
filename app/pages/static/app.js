// 驻村打卡: the member's offline-first page. Plain JS, no libraries, no cookies.
// Tokens live in localStorage (a reload stays signed in). Check-ins and visits go through an
// IndexedDB queue: the client_id is made at the tap, the item is stored before any upload, and
// the queue is replayed in capture order at start, on `online` and on `visibilitychange`.
"use strict";
(function () {
  var API = "/api/v1";
  var KEEP_MS = 7 * 86400000; // queued items (and their outcomes) are kept 7 days
  var GEO_TIMEOUT_MS = 15000;
  var $ = function (id) { return document.getElementById(id); };
  var store = window.localStorage;
  var state = { me: null, assignment: null, policy: null, here: null, syncing: null, again: null, refreshing: null };

  var ROLE = { member: "驻村队员" };
  var STATUS = {
    present: "已在岗", partial: "已打卡，未满足当日要求", leave: "请假", absent: "缺勤",
    pending: "待打卡", unassigned: "今日无派驻"
  };
  var PACE = {
    met: "已达标", on_track: "进度正常", at_risk: "进度落后", unattainable: "无法达标", missed: "未达标"
  };
  var GEOFENCE = { inside: "在村内", near: "在村界附近（计入）", outside: "在村外" };
  var FLAGS = {
    mock_location: "模拟定位", low_accuracy: "定位精度差", impossible_speed: "移动速度异常",
    clock_skew: "手机时间不准", late_sync: "上传过晚", repeated_fix: "与以往坐标完全相同",
    device_change: "更换了设备", wrong_village: "在其他村", no_assignment: "当日无派驻",
    wifi_mismatch: "Wi-Fi 不符", at_home_unit: "在派出单位", shared_device: "设备与他人共用",
    same_confirmer: "确认人异常"
  };
  var CODES = {
    too_old: "定位时间超过 30 天，已不能上传",
    in_future: "手机时间晚于服务器一天以上，请校准手机时间",
    idempotency_conflict: "同一编号的记录内容不同，已拒收",
    validation_error: "数据格式有误，已拒收",
    role_required: "当前账号无权执行此操作",
    no_assignment: "今日没有派驻村",
    leave_overlap: "与已有的请假时间重叠",
    retroactive_leave: "开始日期早于今天（紧急情况请勾选“紧急”）",
    invalid_range: "结束日期早于开始日期",
    invalid_transition: "当前状态不能进行此操作",
    not_found: "记录不存在或不属于您"
  };
  var LEAVE_TYPE = { personal: "事假", sick: "病假", annual: "年休假", official: "公出", recall: "召回" };
  var LEAVE_STATUS = {
    pending: "待审批", approved: "已批准", rejected: "未批准", cancelled: "已撤销", returned: "已销假"
  };
  var TOPICS = {
    income: "收入", health: "健康", education: "教育", housing: "住房", employment: "就业",
    policy: "政策宣传", problem: "困难问题", other: "其他"
  };
  var RISK = { high: "高风险", key: "重点", general: "一般" };
  var CATEGORY = { lifted: "脱贫户", monitored: "监测户", ordinary: "一般户" };
  var CONFIRM = { pending: "待户主确认", confirmed: "户主已确认", denied: "户主否认", unconfirmed: "未确认（待回访）" };
  var VIEWER = {
    township: "乡镇", county: "县（区）", city: "市级", unit: "派出单位", auditor: "审计", admin: "管理员",
    sysadmin: "系统管理员", security_admin: "安全管理员", audit_admin: "审计管理员"
  };
  var WHAT = {
    "checkins.list": "查看了我的签到位置", "checkin.review": "复核了我的一条签到",
    "household.phone": "查看了帮扶户的完整电话"
  };
  var FEEDBACK = { complaint: "投诉", suggestion: "建议", burden: "反映负担", data_correction: "数据更正" };

  // --- small helpers --------------------------------------------------------------------------
  function h(name, text, cls) {
    var node = document.createElement(name);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function say(id, text, bad) { var n = $(id); n.textContent = text || ""; n.className = bad ? "error" : ""; }
  function zone() { return (state.policy && state.policy.timezone) || "Asia/Shanghai"; }
  function today() { return new Intl.DateTimeFormat("en-CA", { timeZone: zone() }).format(new Date()); }
  function clock(iso) {
    return new Date(iso).toLocaleString("zh-CN", { timeZone: zone(), hour12: false, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var x = Array.prototype.map.call(b, function (v) { return (v + 256).toString(16).slice(1); }).join("");
    return x.slice(0, 8) + "-" + x.slice(8, 12) + "-" + x.slice(12, 16) + "-" + x.slice(16, 20) + "-" + x.slice(20);
  }
  function deviceId() {
    var id = store.getItem("zhucun.device");
    if (!id) { id = uuid(); store.setItem("zhucun.device", id); }
    return id;
  }
  function cached(key, value) {
    if (value !== undefined) { store.setItem("zhucun.cache." + key, JSON.stringify(value)); return value; }
    try { return JSON.parse(store.getItem("zhucun.cache." + key)); } catch (e) { return null; }
  }
  // A problem answer in Chinese: the server's own zh-CN detail, else our words for its code.
  function why(problem, status) {
    if (problem && problem.code && CODES[problem.code]) return CODES[problem.code];
    if (problem && (problem.detail || problem.title)) return problem.detail || problem.title;
    if (status === 404) return CODES.not_found;
    return "服务器拒收（" + status + "）";
  }

  // --- the API: bearer token, one refresh in flight -------------------------------------------
  function tokens() { return { access: store.getItem("zhucun.access"), refresh: store.getItem("zhucun.refresh") }; }
  function keep(body) {
    store.setItem("zhucun.access", body.access_token);
    if (body.refresh_token) store.setItem("zhucun.refresh", body.refresh_token);
  }
  // Every request that meets an expired token waits for the same refresh (API.md: a single
  // refresh in flight; the server answers the same pair within its grace anyway).
  function refresh() {
    if (state.refreshing) return state.refreshing;
    var rt = tokens().refresh;
    if (!rt) return Promise.reject(new Error("signed-out"));
    state.refreshing = fetch(API + "/auth/refresh", {
      method: "POST", credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept-Language": "zh-CN" },
      body: JSON.stringify({ refresh_token: rt })
    }).then(function (r) {
      if (!r.ok) { if (r.status < 500) signOut("登录已过期，请重新登录"); throw new Error("signed-out"); }
      return r.json().then(keep);
    }).then(function () { state.refreshing = null; }, function (e) { state.refreshing = null; throw e; });
    return state.refreshing;
  }
  // Resolves {ok, status, body}; rejects only when the network failed (offline).
  function call(method, path, body, retried) {
    var headers = { "Accept-Language": "zh-CN", Authorization: "Bearer " + tokens().access };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(API + path, {
      method: method, credentials: "omit", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401 && !retried && tokens().refresh) {
        return refresh().then(function () { return call(method, path, body, true); });
      }
      if (r.status === 401) signOut("登录已过期，请重新登录");
      var type = r.headers.get("content-type") || "";
      var parsed = type.indexOf("json") >= 0 ? r.json() : Promise.resolve(null);
      return parsed.then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    });
  }
  function get(path) {
    return call("GET", path).then(function (r) {
      if (!r.ok) { var e = new Error(why(r.body, r.status)); e.status = r.status; throw e; }
      return r.body;
    });
  }

  // --- the offline queue (IndexedDB) -----------------------------------------------------------
  var dbp = null;
  function db() {
    if (dbp) return dbp;
    dbp = new Promise(function (resolve, reject) {
      var open = indexedDB.open("zhucun-app", 1);
      open.onupgradeneeded = function () {
        var s = open.result.createObjectStore("queue", { keyPath: "client_id" });
        s.createIndex("seq", "seq");
      };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
    return dbp;
  }
  function tx(mode, work) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var t = d.transaction("queue", mode), out;
        out = work(t.objectStore("queue"));
        t.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function allItems() {
    return tx("readonly", function (s) { return s.index("seq").getAll(); }).then(function (items) {
      var mine = state.me ? state.me.id : null;
      return (items || []).filter(function (i) { return i.user_id === mine; });
    });
  }
  var seqLast = 0;
  function enqueue(kind, body, label) {
    var seq = Math.max(Date.now(), seqLast + 1); seqLast = seq;
    var item = {
      client_id: body.client_id, kind: kind, body: body, label: label, seq: seq,
      user_id: state.me.id, created: Date.now(), status: "pending", outcome: "待上传"
    };
    return tx("readwrite", function (s) { s.put(item); }).then(function () { return item; });
  }
  function putItem(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function purgeOld() {
    var cut = Date.now() - KEEP_MS;
    return tx("readwrite", function (s) {
      var req = s.openCursor();
      req.onsuccess = function () {
        var c = req.result;
        if (!c) return;
        if (c.value.created < cut) c.delete();
        c.continue();
      };
    });
  }

  function outcomeOf(item, r) {
    if (item.kind === "checkin") {
      var c = r.body;
      var parts = [r.status === 201 ? "已上传" : "已上传（重复，已合并）", c.credited ? "计入在岗" : "不计入"];
      if (c.geofence) parts.push(GEOFENCE[c.geofence] || c.geofence);
      if (c.distance_m) parts.push("距村界 " + Math.round(c.distance_m) + " 米");
      (c.flags || []).forEach(function (f) { parts.push(FLAGS[f] || f); });
      if (c.roll_call_status && c.roll_call_status !== "not_called") {
        parts.push({ answered: "点名已应答", late: "点名应答超时", outside: "点名时不在村", mock: "点名定位异常" }[c.roll_call_status] || c.roll_call_status);
      }
      return { credited: !!c.credited, text: parts.join(" · ") };
    }
    var v = r.body;
    var t = ["走访已上传", v.at_household ? "在农户家中" : "距农户 " + Math.round(v.distance_m || 0) + " 米", CONFIRM[v.confirmation] || v.confirmation];
    return { credited: !!v.credited, text: t.join(" · "), visit: v };
  }

  // Replays pending items in capture order; stops at the first network failure (still offline)
  // or server trouble (5xx, 429), so order is kept. One replay at a time.
  // A sync asked for while one runs (say, `online` firing while the offline try is still
  // failing) runs again when that one ends, so the request is never swallowed.
  function sync() {
    if (state.syncing) {
      if (!state.again) state.again = state.syncing.then(function () { state.again = null; return sync(); });
      return state.again;
    }
    if (!state.me) return Promise.resolve();
    state.syncing = allItems().then(function (items) {
      var pending = items.filter(function (i) { return i.status === "pending"; });
      var chain = Promise.resolve(true);
      pending.forEach(function (item) {
        chain = chain.then(function (go) {
          if (!go) return false;
          var path = item.kind === "visit" ? "/visits" : "/checkins";
          return call("POST", path, item.body).then(function (r) {
            if (r.status >= 500 || r.status === 429 || r.status === 401) return false;
            if (r.ok) {
              var o = outcomeOf(item, r);
              item.status = "done"; item.outcome = o.text; item.credited = o.credited;
              if (o.visit) item.visit = o.visit;
            } else {
              item.status = "rejected"; item.outcome = "被拒收：" + why(r.body, r.status);
            }
            item.sent = Date.now();
            return putItem(item).then(function () {
              if (item.visit) visitUploaded(item);
              return true;
            });
          }, function () { return false; });
        });
      });
      return chain;
    }).then(showQueue, showQueue).then(function () { state.syncing = null; }, function () { state.syncing = null; });
    return state.syncing;
  }

  function showQueue() {
    return allItems().then(function (items) {
      var pending = items.filter(function (i) { return i.status === "pending"; }).length;
      $("pending").textContent = "待同步 " + pending;
      $("pending").classList.toggle("warn", pending > 0);
      var list = $("queue");
      list.textContent = "";
      if (!items.length) list.appendChild(h("li", "暂无记录", "muted"));
      items.slice().reverse().forEach(function (i) {
        var li = h("li", null, "q-" + i.status);
        li.setAttribute("data-client-id", i.client_id);
        li.appendChild(h("strong", (i.label || (i.kind === "visit" ? "走访" : "签到")) + " " + clock(new Date(i.seq).toISOString())));
        li.appendChild(h("span", i.outcome, i.status === "rejected" ? "error" : (i.status === "pending" ? "muted" : "")));
        list.appendChild(li);
      });
      if (pending === 0 && items.length && items[items.length - 1].status === "done") refreshToday();
    });
  }

  // --- location --------------------------------------------------------------------------------
  function locate(precise) {
    return new Promise(function (resolve, reject) {
      if (!navigator.geolocation) { reject({ code: 0 }); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject, {
        enableHighAccuracy: precise, timeout: GEO_TIMEOUT_MS, maximumAge: precise ? 0 : 120000
      });
    });
  }
  function geoError(e) {
    if (e && e.code === 1) return "无法签到：本页没有定位权限。请在浏览器（或微信）设置里允许本页使用位置信息，然后再点一次。";
    if (e && e.code === 3) return "15 秒内没有拿到定位。请到开阔处、打开手机定位（GPS）后再试。";
    if (e && e.code === 0) return "本浏览器不支持定位，无法签到。";
    if (!window.isSecureContext) return "无法定位：浏览器只向 https 网页提供位置。";
    return "定位失败，请稍后再试。";
  }
  function fixBody(pos, extra) {
    var c = pos.coords;
    var body = {
      client_id: extra.client_id, captured_at: new Date(pos.timestamp || Date.now()).toISOString(),
      latitude: c.latitude, longitude: c.longitude, coord_system: "wgs84",
      accuracy_m: Math.max(c.accuracy || 0, 0.1), device_id: deviceId()
    };
    if (c.altitude !== null && c.altitude !== undefined && isFinite(c.altitude)) body.altitude_m = c.altitude;
    if (c.speed !== null && c.speed !== undefined && isFinite(c.speed)) body.speed_mps = c.speed;
    if (c.heading !== null && c.heading !== undefined && isFinite(c.heading)) body.heading_deg = c.heading;
    Object.keys(extra).forEach(function (k) { body[k] = extra[k]; });
    return body;
  }

  var checking = false;
  function checkIn(rollCallId, button) {
    if (checking) return;
    checking = true;
    var client = uuid(); // made at the tap: a retried upload can never make a second check-in
    var buttons = [$("checkin")].concat(button ? [button] : []);
    buttons.forEach(function (b) { b.disabled = true; });
    say("checkin-msg", "正在定位（最长 15 秒）…");
    locate(true).then(function (pos) {
      state.here = pos; drawMap();
      var extra = { client_id: client };
      if (rollCallId) extra.roll_call_id = String(rollCallId);
      var body = fixBody(pos, extra);
      say("checkin-msg", "已定位，精度 ±" + Math.round(pos.coords.accuracy) + " 米。" + (navigator.onLine ? "正在上传…" : "当前离线，已保存，联网后自动上传。"));
      return enqueue("checkin", body, rollCallId ? "点名应答" : "签到").then(showQueue).then(sync).then(function () {
        return tx("readonly", function (s) { return s.get(client); });
      }).then(function (item) {
        if (item && item.status !== "pending") say("checkin-msg", "精度 ±" + Math.round(pos.coords.accuracy) + " 米 · " + item.outcome, item.status === "rejected");
        if (rollCallId) loadRollCalls();
      });
    }, function (e) {
      say("checkin-msg", geoError(e), true);
    }).then(function () {
      checking = false;
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  // --- today's card ----------------------------------------------------------------------------
  function rings(g) {
    if (!g) return [];
    if (g.type === "Polygon") return g.coordinates;
    if (g.type === "MultiPolygon") return [].concat.apply([], g.coordinates);
    return [];
  }
  function polygons(g) {
    if (!g) return [];
    return g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
  }
  function inRing(ring, x, y) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  // Where a point lies against the boundary (planar, metres near the village): inside, or the
  // distance to the nearest edge, as the server judges it (policy.geofence.near_m).
  function judge(g, lon, lat) {
    var inside = polygons(g).some(function (poly) {
      return inRing(poly[0], lon, lat) && !poly.slice(1).some(function (hole) { return inRing(hole, lon, lat); });
    });
    if (inside) return { where: "inside", d: 0 };
    var kx = 111320 * Math.cos(lat * Math.PI / 180), ky = 110540, best = Infinity;
    rings(g).forEach(function (ring) {
      for (var i = 1; i < ring.length; i++) {
        var ax = (ring[i - 1][0] - lon) * kx, ay = (ring[i - 1][1] - lat) * ky;
        var bx = (ring[i][0] - lon) * kx, by = (ring[i][1] - lat) * ky;
        var dx = bx - ax, dy = by - ay, L = dx * dx + dy * dy;
        var t = L ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / L)) : 0;
        best = Math.min(best, Math.hypot(ax + t * dx, ay + t * dy));
      }
    });
    var near = (state.policy && state.policy.geofence && state.policy.geofence.near_m) || 200;
    return { where: best <= near ? "near" : "outside", d: best };
  }

  function drawMap() {
    var svg = $("map"), a = state.assignment;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    if (!a || !a.boundary) return;
    var pts = [];
    rings(a.boundary).forEach(function (r) { pts = pts.concat(r); });
    var here = state.here && state.here.coords;
    if (here) pts.push([here.longitude, here.latitude]);
    var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
    pts.forEach(function (p) { minx = Math.min(minx, p[0]); maxx = Math.max(maxx, p[0]); miny = Math.min(miny, p[1]); maxy = Math.max(maxy, p[1]); });
    var kx = Math.cos((miny + maxy) / 2 * Math.PI / 180), W = 300, H = 200, pad = 14;
    var s = Math.min((W - 2 * pad) / Math.max((maxx - minx) * kx, 1e-9), (H - 2 * pad) / Math.max(maxy - miny, 1e-9));
    var ox = (W - (maxx - minx) * kx * s) / 2, oy = (H - (maxy - miny) * s) / 2;
    function xy(p) { return [ox + (p[0] - minx) * kx * s, oy + (maxy - p[1]) * s]; }
    var d = rings(a.boundary).map(function (r) {
      return r.map(function (p, i) { var q = xy(p); return (i ? "L" : "M") + q[0].toFixed(1) + " " + q[1].toFixed(1); }).join("") + "Z";
    }).join("");
    var NS = "http://www.w3.org/2000/svg";
    var path = document.createElementNS(NS, "path");
    path.setAttribute("d", d); path.setAttribute("class", "village"); path.setAttribute("fill-rule", "evenodd");
    svg.appendChild(path);
    if (here) {
      var q = xy([here.longitude, here.latitude]);
      var ring = document.createElementNS(NS, "circle");
      ring.setAttribute("cx", q[0]); ring.setAttribute("cy", q[1]);
      ring.setAttribute("r", Math.max(here.accuracy / 110540 * s, 4)); ring.setAttribute("class", "accuracy");
      var dot = document.createElementNS(NS, "circle");
      dot.setAttribute("cx", q[0]); dot.setAttribute("cy", q[1]); dot.setAttribute("r", 6); dot.setAttribute("class", "me");
      svg.appendChild(ring); svg.appendChild(dot);
      var j = judge(a.boundary, here.longitude, here.latitude);
      var text = GEOFENCE[j.where] + (j.where === "inside" ? "" : "，距村界约 " + Math.round(j.d) + " 米") + " · 精度 ±" + Math.round(here.accuracy) + " 米";
      $("where").textContent = text;
      $("where").setAttribute("data-where", j.where);
    }
  }

  function refreshToday() {
    var day = today();
    get("/members/me/presence?from=" + day + "&to=" + day).then(function (p) {
      var d = p.days && p.days[0];
      var rule = (state.policy && state.policy.day_rule) || { min_checkins: 2, min_span_hours: 6 };
      var text = !d ? "" : d.status === "pending" && d.counted_checkins
        ? "今日：有效签到 " + d.counted_checkins + " 次，尚未满足当日要求（" + rule.min_checkins + " 次、首末间隔 " + rule.min_span_hours + " 小时）"
        : "今日：" + (STATUS[d.status] || d.status) + "（有效签到 " + d.counted_checkins + " 次）";
      cached("today", { day: day, text: text });
      $("today-status").textContent = text;
    }, function () {});
    get("/compliance/members/me").then(function (c) {
      var text = "本期 " + (c.period || c.quarter) + "：在岗 " + c.present_days + " 天 / 应 " + c.required_days +
        " 天，尚需 " + (c.needed_days !== undefined ? c.needed_days : Math.max(c.required_days - c.present_days, 0)) +
        " 天 · " + (PACE[c.status] || c.status);
      cached("pace", text);
      $("pace").textContent = text;
    }, function () {});
  }

  function loadToday() {
    var a = cached("assignment"), t = cached("today");
    if (a) { state.assignment = a; showAssignment(); }
    if (t && t.day === today()) $("today-status").textContent = t.text;
    $("pace").textContent = cached("pace") || "";
    get("/me/assignment").then(function (a) {
      state.assignment = cached("assignment", a); showAssignment();
    }, function (e) {
      if (e.status === 404) { state.assignment = cached("assignment", null); showAssignment(); $("village").textContent = "今日没有派驻村"; }
    });
    refreshToday();
    locate(false).then(function (pos) { if (!state.here || pos.timestamp > state.here.timestamp) { state.here = pos; drawMap(); } }, function () {});
  }
  function showAssignment() {
    var a = state.assignment;
    $("village").textContent = a ? a.village_name + "（" + a.village_code + "）" : "今日";
    drawMap();
  }

  // --- roll calls ------------------------------------------------------------------------------
  function loadRollCalls() {
    get("/me/roll-calls").then(function (page) {
      var box = $("roll-calls");
      box.textContent = "";
      page.items.forEach(function (rc) {
        var div = h("div", null, rc.answered ? "banner done" : "banner alert");
        div.setAttribute("role", rc.answered ? "status" : "alert");
        div.setAttribute("data-roll-call", rc.id);
        div.appendChild(h("p", "点名：" + rc.message + "（" + clock(rc.deadline) + " 前应答）" + (rc.answered ? " · 已应答" : "")));
        if (!rc.answered) {
          var b = h("button", "应答点名", "primary");
          b.type = "button";
          b.addEventListener("click", function () { checkIn(rc.id, b); });
          div.appendChild(b);
        }
        box.appendChild(div);
      });
    }, function () {});
  }

  // --- households and visits --------------------------------------------------------------------
  var visiting = null;
  function loadHouseholds() {
    var list = $("households");
    get("/me/households").then(function (page) {
      var items = page.items || page;
      cached("households", items);
      drawHouseholds(items);
    }, function (e) {
      var c = cached("households");
      if (c) drawHouseholds(c);
      else { list.textContent = ""; list.appendChild(h("li", e.status === 404 ? "暂无结对帮扶户" : "无法加载：" + e.message, "muted")); }
    });
  }
  function drawHouseholds(items) {
    var list = $("households");
    list.textContent = "";
    if (!items.length) list.appendChild(h("li", "暂无结对帮扶户", "muted"));
    items.forEach(function (hh) {
      var li = h("li", null, hh.overdue ? "overdue" : "");
      li.setAttribute("data-household", hh.id);
      li.appendChild(h("strong", hh.head_name + " · " + (CATEGORY[hh.category] || hh.category) + " · " + (RISK[hh.risk] || hh.risk)));
      li.appendChild(h("span", hh.address || ""));
      li.appendChild(h("span", hh.overdue ? "已逾期：应于 " + hh.next_due + " 前走访" : "下次走访：" + hh.next_due + " 前", hh.overdue ? "error" : "muted"));
      if (hh.phone) {
        var tel = h("a", "电话 " + hh.phone);
        if (hh.phone.indexOf("*") < 0) tel.href = "tel:" + hh.phone;
        li.appendChild(tel);
      }
      var b = h("button", "入户走访");
      b.type = "button";
      b.addEventListener("click", function () { openVisit(hh); });
      li.appendChild(b);
      list.appendChild(li);
    });
  }
  function openVisit(hh) {
    visiting = hh;
    $("visit-title").textContent = "入户走访：" + hh.head_name;
    $("visit-form").hidden = false;
    say("visit-msg", "");
    $("visit-form").scrollIntoView({ block: "start" });
  }
  function submitVisit(ev) {
    ev.preventDefault();
    if (!visiting || checking) return;
    var hh = visiting, client = uuid(), submit = $("visit-form").querySelector("button[type=submit]");
    var topics = Array.prototype.filter.call(document.querySelectorAll("#topics input"), function (i) { return i.checked; })
      .map(function (i) { return i.value; });
    checking = true; submit.disabled = true;
    say("visit-msg", "正在定位（最长 15 秒）…");
    locate(true).then(function (pos) {
      // Exactly the fields of POST /visits (API.md), no more.
      var c = pos.coords, body = {
        client_id: client, household_id: hh.id, captured_at: new Date(pos.timestamp || Date.now()).toISOString(),
        latitude: c.latitude, longitude: c.longitude, accuracy_m: Math.max(c.accuracy || 0, 0.1), coord_system: "wgs84",
        topics: topics.length ? topics : ["other"], note: $("visit-note").value, problems_found: $("visit-problems").checked
      };
      say("visit-msg", "精度 ±" + Math.round(pos.coords.accuracy) + " 米，" + (navigator.onLine ? "正在上传…" : "当前离线，已保存，联网后自动上传。"));
      return enqueue("visit", body, "走访 " + hh.head_name).then(showQueue).then(sync).then(function () {
        return tx("readonly", function (s) { return s.get(client); });
      }).then(function (item) {
        if (item && item.status !== "pending") say("visit-msg", item.outcome, item.status === "rejected");
        if (item && item.status !== "pending") { $("visit-form").hidden = true; $("visit-note").value = ""; }
      });
    }, function (e) { say("visit-msg", geoError(e), true); }).then(function () { checking = false; submit.disabled = false; });
  }
  // A visit answered with a countersign: the QR full screen, until the household answers.
  var qrTimer = null;
  function visitUploaded(item) {
    var v = item.visit;
    if (!v || !v.countersign || Date.now() - item.created > 25 * 60000) return;
    var url = new URL(v.countersign.url, location.origin).href;
    $("qr-img").src = "/app/qr.svg?text=" + encodeURIComponent(url);
    $("qr-img").setAttribute("data-url", url);
    $("qr-code").textContent = "确认码 " + v.countersign.code;
    $("qr-host").textContent = location.host;
    $("qr-state").textContent = "等待户主确认…";
    $("qr-state").removeAttribute("data-confirmation");
    $("qr-screen").hidden = false;
    clearInterval(qrTimer);
    qrTimer = setInterval(function () {
      get("/households/" + v.household_id).then(function (hh) {
        (hh.visits || []).forEach(function (x) {
          if (x.id === v.id && x.confirmation !== "pending") {
            $("qr-state").textContent = CONFIRM[x.confirmation] || x.confirmation;
            $("qr-state").setAttribute("data-confirmation", x.confirmation);
            clearInterval(qrTimer);
            loadHouseholds();
          }
        });
      }, function () {});
    }, 3000);
  }

  // --- leave -----------------------------------------------------------------------------------
  function loadLeave() {
    get("/leave-requests").then(function (page) {
      var list = $("leaves");
      list.textContent = "";
      if (!page.items.length) list.appendChild(h("li", "暂无请假记录", "muted"));
      page.items.forEach(function (l) {
        var li = h("li");
        li.setAttribute("data-leave", l.id);
        li.appendChild(h("strong", (LEAVE_TYPE[l.type] || l.type) + " " + l.start_date + " 至 " + l.end_date + "（" + l.days + " 天）"));
        li.appendChild(h("span", (LEAVE_STATUS[l.status] || l.status) + (l.returned_on ? " · " + l.returned_on + " 返岗" : "") + " · " + l.reason, "muted"));
        var started = l.start_date <= today();
        if (l.status === "pending" || (l.status === "approved" && !started)) li.appendChild(leaveAction(l, "cancel", "撤销", null));
        if (l.status === "approved" && started) {
          li.appendChild(leaveAction(l, "return", "销假", { returned_on: ["返岗日期", "date", today()] }));
          li.appendChild(leaveAction(l, "extend", "续假", { end_date: ["续至", "date", l.end_date], reason: ["续假事由", "text", ""] }));
        }
        list.appendChild(li);
      });
    }, function (e) { say("leave-msg", e.message, true); });
  }
  function leaveAction(l, action, label, fields) {
    var form = h("form", null, "inline");
    Object.keys(fields || {}).forEach(function (k) {
      var id = "l" + l.id + "-" + k, f = fields[k];
      var lab = h("label", f[0]); lab.htmlFor = id;
      var input = h("input"); input.id = id; input.type = f[1]; input.value = f[2]; input.required = true; input.name = k;
      form.appendChild(lab); form.appendChild(input);
    });
    var b = h("button", label); b.type = "submit";
    form.appendChild(b);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      Object.keys(fields || {}).forEach(function (k) { body[k] = form.elements[k].value; });
      call("POST", "/leave-requests/" + l.id + "/" + action, body).then(function (r) {
        say("leave-msg", r.ok ? label + "成功" : label + "失败：" + why(r.body, r.status), !r.ok);
        loadLeave();
      }, function () { say("leave-msg", "离线，无法" + label + "，请联网后再试", true); });
    });
    return form;
  }
  function submitLeave(ev) {
    ev.preventDefault();
    call("POST", "/leave-requests", {
      type: $("leave-type").value, start_date: $("leave-start").value, end_date: $("leave-end").value,
      reason: $("leave-reason").value, emergency: $("leave-emergency").checked
    }).then(function (r) {
      say("leave-msg", r.ok ? "已提交，等待审批" : "未能提交：" + why(r.body, r.status), !r.ok);
      if (r.ok) { $("leave-reason").value = ""; loadLeave(); }
    }, function () { say("leave-msg", "离线，无法提交请假，请联网后再试", true); });
  }

  // --- events, feedback, privacy -----------------------------------------------------------------
  function localIso(value) {
    var d = new Date(value), off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-";
    off = Math.abs(off);
    return value + ":00" + sign + String(Math.floor(off / 60)).padStart(2, "0") + ":" + String(off % 60).padStart(2, "0");
  }
  function submitEvent(ev) {
    ev.preventDefault();
    if (!state.assignment) { say("event-msg", "今日没有派驻村，无法报告", true); return; }
    call("POST", "/events", {
      kind: $("event-kind").value, occurred_at: localIso($("event-at").value),
      summary: $("event-summary").value, village_code: state.assignment.village_code
    }).then(function (r) {
      say("event-msg", r.ok ? "已报告（编号 " + r.body.id + "）" : "未能报告：" + why(r.body, r.status), !r.ok);
      if (r.ok) $("event-summary").value = "";
    }, function () { say("event-msg", "离线，无法报告，请联网后再试", true); });
  }
  function loadFeedback() {
    get("/me/feedback").then(function (page) {
      var list = $("feedbacks");
      list.textContent = "";
      (page.items || []).forEach(function (f) {
        var li = h("li");
        li.appendChild(h("strong", (FEEDBACK[f.kind] || f.kind) + " · " + clock(f.created_at) + " · " +
          (f.status === "answered" ? "已答复" : (f.overdue ? "已超期未答复" : "待答复（" + f.due_date + " 前）"))));
        li.appendChild(h("span", f.text));
        if (f.reply) li.appendChild(h("span", "答复：" + f.reply, "muted"));
        list.appendChild(li);
      });
    }, function () {});
  }
  function submitFeedback(ev) {
    ev.preventDefault();
    call("POST", "/feedback", { kind: $("feedback-kind").value, text: $("feedback-text").value, about: null }).then(function (r) {
      say("feedback-msg", r.ok ? "已提交，我们会在 15 个工作日内答复" : "未能提交：" + why(r.body, r.status), !r.ok);
      if (r.ok) { $("feedback-text").value = ""; loadFeedback(); }
    }, function () { say("feedback-msg", "离线，无法提交，请联网后再试", true); });
  }
  var notice = null;
  function loadNotice() {
    return fetch(API + "/privacy/notice", { credentials: "omit", headers: { "Accept-Language": "zh-CN" } })
      .then(function (r) { if (!r.ok) throw new Error(); return r.json(); })
      .then(function (n) {
        notice = n;
        var box = $("notice");
        box.textContent = "";
        box.appendChild(h("p", n.text));
        ["basis", "data", "retention", "contact"].forEach(function (k) {
          var v = n[k];
          if (!v || (v.length === 0)) return;
          box.appendChild(h("p", ({ basis: "依据：", data: "保存的信息：", retention: "保存期限：", contact: "联系方式：" })[k] +
            (Array.isArray(v) ? v.join("；") : String(v)), "small"));
        });
        if (state.me && state.me.notice_version !== n.version) {
          $("notice-banner").hidden = false;
          var ok = h("button", "我已阅读并知晓", "primary");
          ok.type = "button"; ok.id = "notice-ack";
          ok.addEventListener("click", function () {
            call("POST", "/me/notice", { version: n.version }).then(function (r) {
              if (r.ok) { state.me.notice_version = n.version; $("notice-banner").hidden = true; ok.remove(); say("privacy-msg", "已确认告知"); }
            });
          });
          box.appendChild(ok);
        }
      });
  }
  function showNotice() {
    $("notice").hidden = false;
    if (!notice) loadNotice().catch(function () { say("privacy-msg", "暂时无法获取告知内容", true); });
  }
  function showAccess() {
    var list = $("access-log");
    list.hidden = false;
    get("/me/access-log").then(function (page) {
      list.textContent = "";
      if (!(page.items || []).length) list.appendChild(h("li", "暂无他人查看记录", "muted"));
      (page.items || []).forEach(function (a) {
        list.appendChild(h("li", clock(a.at) + " · " + (VIEWER[a.viewer_role] || a.viewer_role || "") + "（用户 " + a.viewer_id + "）" +
          (WHAT[a.what] || "查看了 " + a.what)));
      });
    }, function (e) { list.textContent = ""; list.appendChild(h("li", "无法加载：" + e.message, "error")); });
  }
  function exportData() {
    fetch(API + "/me/export?format=json", { credentials: "omit", headers: { Authorization: "Bearer " + tokens().access, "Accept-Language": "zh-CN" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.blob(); })
      .then(function (blob) {
        var a = h("a"); a.href = URL.createObjectURL(blob); a.download = "我的数据-" + today() + ".json";
        document.body.appendChild(a); a.click(); a.remove();
        say("privacy-msg", "已下载");
      }, function () { say("privacy-msg", "暂时无法下载，请联网后再试", true); });
  }

  // --- sign-in and start -----------------------------------------------------------------------
  function signOut(message) {
    store.removeItem("zhucun.access"); store.removeItem("zhucun.refresh");
    state.me = null;
    $("home").hidden = true; $("tabs").hidden = true; $("login").hidden = false;
    if (message) say("login-error", message, true);
  }
  function login(ev) {
    ev.preventDefault();
    say("login-error", "");
    var form = new URLSearchParams();
    form.set("username", $("username").value);
    form.set("password", $("password").value);
    fetch(API + "/auth/token", {
      method: "POST", body: form, credentials: "omit",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "zh-CN" }
    }).then(function (r) {
      return r.json().then(function (b) {
        if (!r.ok) throw new Error(why(b, r.status));
        keep(b);
        $("password").value = "";
        start();
      });
    }).catch(function (e) { say("login-error", e.message === "Failed to fetch" ? "网络不通，无法登录" : e.message, true); });
  }
  function start() {
    var me = cached("me");
    var ready = get("/me").then(function (m) { return cached("me", m); }, function (e) {
      if (e.status || !me) throw e;
      return me; // offline: the last known user
    });
    ready.then(function (m) {
      if (m.role !== "member") { signOut("本页供驻村队员使用；管理人员请用 /dashboard"); return; }
      state.me = m;
      $("login").hidden = true; $("home").hidden = false; $("tabs").hidden = false;
      $("who").textContent = (m.full_name || m.username) + " · " + (ROLE[m.role] || m.role);
      if (!state.policy) get("/policy").then(function (p) { state.policy = cached("policy", p); drawMap(); }, function () {});
      loadToday();
      purgeOld().then(showQueue).then(sync);
      loadRollCalls();
      loadNotice().catch(function () {});
      markReady();
    }, function () { if (tokens().access) signOut("请重新登录"); else signOut(); markReady(); });
  }
  function tab(name) {
    Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (b) {
      if (b.getAttribute("data-tab") === name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
    });
    Array.prototype.forEach.call(document.querySelectorAll(".tab"), function (s) { s.hidden = s.id !== "tab-" + name; });
    if (name === "households") loadHouseholds();
    if (name === "leave") loadLeave();
    if (name === "more") loadFeedback();
    window.scrollTo(0, 0);
  }
  // Usable: the sign-in form or the card is up. Its value is the milliseconds since navigation
  // began (performance.now()), which the tests and bench/pages_bench.py read as the load time.
  function markReady() {
    if (!document.body.hasAttribute("data-ready")) document.body.setAttribute("data-ready", String(Math.round(performance.now())));
  }
  function net() {
    $("net").textContent = navigator.onLine ? "在线" : "离线";
    $("net").classList.toggle("warn", !navigator.onLine);
  }

  Object.keys(TOPICS).forEach(function (k) {
    var lab = h("label", null, "check"), box = h("input");
    box.type = "checkbox"; box.value = k;
    lab.appendChild(box); lab.appendChild(document.createTextNode(" " + TOPICS[k]));
    $("topics").appendChild(lab);
  });
  $("login-form").addEventListener("submit", login);
  $("checkin").addEventListener("click", function () { checkIn(null, null); });
  $("sync-now").addEventListener("click", function () { sync(); });
  $("visit-form").addEventListener("submit", submitVisit);
  $("visit-cancel").addEventListener("click", function () { $("visit-form").hidden = true; });
  $("leave-form").addEventListener("submit", submitLeave);
  $("event-form").addEventListener("submit", submitEvent);
  $("feedback-form").addEventListener("submit", submitFeedback);
  $("show-notice").addEventListener("click", showNotice);
  $("notice-open").addEventListener("click", function () { tab("more"); showNotice(); });
  $("show-access").addEventListener("click", showAccess);
  $("export").addEventListener("click", exportData);
  $("logout").addEventListener("click", function () { call("POST", "/auth/logout").catch(function () {}); signOut(); });
  $("qr-close").addEventListener("click", function () { $("qr-screen").hidden = true; clearInterval(qrTimer); });
  Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (b) {
    b.addEventListener("click", function () { tab(b.getAttribute("data-tab")); });
  });
  $("leave-start").value = $("leave-end").value = today();
  $("event-at").value = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  window.addEventListener("online", function () { net(); sync(); });
  window.addEventListener("offline", net);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") sync(); });
  net();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app" }).catch(function () {});
  if (tokens().access) start(); else { signOut(); markReady(); }
})();
