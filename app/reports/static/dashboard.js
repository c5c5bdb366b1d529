// 驻村在岗地图: plain JS and SVG, no libraries, no tiles: the village boundaries are the map.
// The bearer token lives in sessionStorage (no cookies); every call sends it.
"use strict";
(function () {
  var API = "/api/v1";
  var SVG = "http://www.w3.org/2000/svg";
  var TOKEN_KEY = "zhucun.token";
  var STATES = {
    good: ["#2e9d4e", "在岗良好"], fair: ["#f0b429", "部分在岗"], poor: ["#d64545", "在岗不足"],
    leave: ["#5b8def", "全员请假"], empty: ["#cbd2d9", "无派驻"]
  };
  // Coloured by compliance, a village is never "all on leave": no legend entry for it.
  var PERIOD_LABELS = { good: "进度正常", fair: "部分落后", poor: "多数落后", leave: null, empty: "无派驻" };
  var COMPLIANCE = { at_risk: "进度落后", unattainable: "无法达标", missed: "未达标" };
  var STATUS = {
    present: "在岗", partial: "不足", leave: "请假", absent: "缺勤", pending: "待定", unassigned: "未派驻"
  };
  var FLAGS = {
    mock_location: "模拟定位", low_accuracy: "精度差", impossible_speed: "速度异常", clock_skew: "时钟偏差",
    late_sync: "延迟上传", repeated_fix: "重复坐标", device_change: "更换设备", wrong_village: "他村",
    no_assignment: "无派驻"
  };
  var ROLES = {
    township: "乡镇", county: "县（区）", city: "市级", auditor: "审计", admin: "管理员", unit: "派出单位",
    member: "驻村队员", sysadmin: "系统管理员", security_admin: "安全管理员", audit_admin: "审计管理员"
  };
  var LEVELS = { 2: "省", 4: "市", 6: "县（区）", 9: "乡镇", 12: "村" };
  var $ = function (id) { return document.getElementById(id); };
  // On a phone the panels stack below the map: bring the one just opened into view.
  function reveal(node) {
    if (window.matchMedia("(max-width: 900px)").matches) node.scrollIntoView({ block: "start" });
  }
  function division(role, scope) {
    if (!scope) return "全部辖区";
    if (!/^\d+$/.test(scope)) return scope;
    var level = ["township", "county", "city"].indexOf(role) >= 0 ? "" : "（" + (LEVELS[scope.length] || "区划") + "）";
    return "辖区 " + scope + level;
  }
  var zone = "Asia/Shanghai"; // the deployment's, from GET /policy once signed in

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function html(name, text, cls) {
    var node = document.createElement(name);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function api(path) {
    return fetch(API + path, { headers: { Authorization: "Bearer " + token(), "Accept-Language": "zh-CN" } })
      .then(function (r) {
        if (r.status === 401) { signOut(); throw new Error("请重新登录"); }
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.detail || body.title || ("HTTP " + r.status));
          return body;
        });
      });
  }

  function status(text) { $("status").textContent = text || ""; }

  // --- sign in -------------------------------------------------------------------------------
  function showLogin() { $("main").hidden = true; $("login").hidden = false; $("username").focus(); }

  function signOut() { sessionStorage.removeItem(TOKEN_KEY); showLogin(); }

  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-error").textContent = "";
    var form = new URLSearchParams();
    form.set("username", $("username").value);
    form.set("password", $("password").value);
    fetch(API + "/auth/token", {
      method: "POST", body: form, credentials: "omit",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "zh-CN" }
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.detail || body.title);
        sessionStorage.setItem(TOKEN_KEY, body.access_token);
        $("password").value = "";
        start();
      });
    }).catch(function (e) { $("login-error").textContent = e.message || "登录失败"; });
  });

  $("logout").addEventListener("click", signOut);
  $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });

  function start() {
    api("/me").then(function (me) {
      var allowed = ["township", "county", "city", "auditor", "admin"];
      if (allowed.indexOf(me.role) < 0) {
        signOut();
        $("login-error").textContent = "该账号无权查看地图（需乡镇及以上、审计或管理员）。";
        return;
      }
      $("login").hidden = true; $("main").hidden = false;
      api("/policy").then(function (p) { if (p.timezone) zone = p.timezone; })
        .catch(function () {}).then(load);
      $("who").textContent = (me.full_name || me.username) + " · " + (ROLES[me.role] || me.role) + "账号 · " + division(me.role, me.scope);
    }).catch(function () { showLogin(); });
  }

  // --- overview ------------------------------------------------------------------------------
  function load() {
    var q = [];
    if ($("scope").value) q.push("scope=" + encodeURIComponent($("scope").value));
    if ($("day").value) q.push("date=" + encodeURIComponent($("day").value));
    if ($("colour").value === "compliance") q.push("colour=compliance");
    status("加载中…");
    api("/dashboard/overview" + (q.length ? "?" + q.join("&") : "")).then(function (data) {
      if (!$("day").value) $("day").value = data.date;
      drawMap(data.villages);
      drawLegend(data.villages, data.colour_by);
      drawRisk(data.at_risk);
      drawTrend(data.trend);
      status(data.villages.length + " 个村 · " + data.date);
      document.body.setAttribute("data-loaded", "overview");
    }).catch(function (e) { status(e.message); });
  }

  function rings(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return geometry.coordinates;
    if (geometry.type === "MultiPolygon") return [].concat.apply([], geometry.coordinates);
    return [];
  }

  function projection(geometries, width, height, pad) {
    var minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
    geometries.forEach(function (g) {
      rings(g).forEach(function (ring) {
        ring.forEach(function (p) {
          minx = Math.min(minx, p[0]); maxx = Math.max(maxx, p[0]);
          miny = Math.min(miny, p[1]); maxy = Math.max(maxy, p[1]);
        });
      });
    });
    if (minx === Infinity) return null;
    var kx = Math.cos(((miny + maxy) / 2) * Math.PI / 180);
    var w = Math.max((maxx - minx) * kx, 1e-9), h = Math.max(maxy - miny, 1e-9);
    var scale = Math.min((width - 2 * pad) / w, (height - 2 * pad) / h);
    var ox = (width - w * scale) / 2, oy = (height - h * scale) / 2;
    return {
      scale: scale, kx: kx,
      xy: function (lon, lat) { return [ox + (lon - minx) * kx * scale, oy + (maxy - lat) * scale]; }
    };
  }

  function pathOf(geometry, proj) {
    return rings(geometry).map(function (ring) {
      return ring.map(function (p, i) {
        var q = proj.xy(p[0], p[1]);
        return (i ? "L" : "M") + q[0].toFixed(1) + " " + q[1].toFixed(1);
      }).join("") + "Z";
    }).join("");
  }

  function drawMap(villages) {
    var svg = $("map");
    var box = svg.getBoundingClientRect();
    var width = Math.max(box.width, 300), height = Math.max(box.height, 240);
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var proj = projection(villages.map(function (v) { return v.geometry; }), width, height, 16);
    if (!proj) { status("该范围内没有村界"); return; }
    var layer = el("g"), labels = el("g");
    villages.forEach(function (v) {
      if (!v.geometry) return;
      var p = el("path", {
        d: pathOf(v.geometry, proj), "class": "village", fill: STATES[v.state][0],
        "fill-rule": "evenodd", "data-code": v.code, "data-state": v.state
      });
      var rate = v.rate === null ? "—" : Math.round(v.rate * 100) + "%";
      p.appendChild(el("title", {}, v.name + "（" + v.code + "）\n派驻 " + v.assigned + " 人，在岗 " +
        v.on_post + "，请假 " + v.on_leave + "，在岗率 " + rate));
      p.addEventListener("click", function () { openVillage(v.code); });
      layer.appendChild(p);
      if (villages.length <= 80) {
        var c = centroid(v.geometry, proj);
        labels.appendChild(el("text", { x: c[0], y: c[1], "text-anchor": "middle" }, v.name));
      }
    });
    svg.appendChild(layer);
    svg.appendChild(labels);
  }

  function centroid(geometry, proj) {
    var ring = rings(geometry)[0] || [[0, 0]], x = 0, y = 0;
    ring.forEach(function (p) { var q = proj.xy(p[0], p[1]); x += q[0]; y += q[1]; });
    return [x / ring.length, y / ring.length + 4];
  }

  function drawLegend(villages, colourBy) {
    var counts = {};
    villages.forEach(function (v) { counts[v.state] = (counts[v.state] || 0) + 1; });
    var list = $("legend");
    list.textContent = "";
    Object.keys(STATES).forEach(function (k) {
      var label = colourBy === "compliance" ? PERIOD_LABELS[k] : STATES[k][1];
      if (!label) return;
      var li = html("li");
      var swatch = html("i");
      swatch.style.background = STATES[k][0];
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(label + " " + (counts[k] || 0)));
      list.appendChild(li);
    });
  }

  function drawRisk(members) {
    var list = $("at-risk");
    list.textContent = "";
    $("risk-count").textContent = members.length ? "（" + members.length + " 人）" : "（无）";
    members.forEach(function (m) {
      var why = m.status ? (COMPLIANCE[m.status] || m.status) + "，尚需 " + m.needed_days + " 天"
        : "缺勤 " + m.absent_workdays + " 个工作日";
      var li = html("li", m.full_name + " · " + m.unit + " · " + why);
      li.setAttribute("data-member", m.member_id);
      li.style.cursor = "pointer";
      li.addEventListener("click", function () { openVillage(m.village_code); });
      list.appendChild(li);
    });
  }

  function drawTrend(days) {
    // Drawn at the size it is shown, so that its labels stay 11 px on a phone.
    var svg = $("trend"), W = Math.round(Math.max(svg.getBoundingClientRect().width, 280)), H = 140, L = 34, B = 20, T = 8;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    [0, 0.5, 1].forEach(function (r) {
      var y = T + (1 - r) * (H - T - B);
      svg.appendChild(el("line", { x1: L, x2: W - 4, y1: y, y2: y }));
      svg.appendChild(el("text", { x: 2, y: y + 3 }, Math.round(r * 100) + "%"));
    });
    var step = (W - L - 8) / Math.max(days.length - 1, 1), points = [];
    days.forEach(function (d, i) {
      var x = L + i * step;
      if (d.rate !== null) points.push(x.toFixed(1) + "," + (T + (1 - d.rate) * (H - T - B)).toFixed(1));
      var last = days.length - 1;
      var every = W < 480 ? 14 : 7;
      if (i === last || (i % every === 0 && last - i >= every / 2 + 1)) {
        svg.appendChild(el("text", { x: i === last ? W - 2 : x, y: H - 4, "text-anchor": i === last ? "end" : (i ? "middle" : "start") }, d.date.slice(5)));
      }
    });
    svg.appendChild(el("polyline", { points: points.join(" ") }));
  }

  // --- a village and a member-day ----------------------------------------------------------------
  var current = null;

  function openVillage(code) {
    Array.prototype.forEach.call(document.querySelectorAll("#map path.village"), function (p) {
      p.classList.toggle("selected", p.getAttribute("data-code") === code);
    });
    var q = $("day").value ? "?date=" + encodeURIComponent($("day").value) : "";
    api("/dashboard/villages/" + code + q).then(function (v) {
      current = v;
      $("village-panel").hidden = false;
      $("day-panel").hidden = true;
      $("village-title").textContent = v.name + "（" + v.code + "）驻村队伍";
      var table = $("team");
      table.textContent = "";
      var head = html("tr");
      head.appendChild(html("th", "队员"));
      var days = v.team.length ? v.team[0].days : [];
      days.forEach(function (d) { head.appendChild(html("th", d.date.slice(5))); });
      table.appendChild(head);
      if (!v.team.length) {
        var none = html("tr"); none.appendChild(html("td", "暂无派驻队员")); table.appendChild(none);
      }
      v.team.forEach(function (m) {
        var tr = html("tr");
        tr.appendChild(html("td", m.full_name, "name"));
        m.days.forEach(function (d) {
          var td = html("td", STATUS[d.status] || d.status, "member-day s-" + d.status);
          td.title = d.date + " 有效打卡 " + d.counted_checkins + " 次";
          td.setAttribute("data-member", m.member_id);
          td.setAttribute("data-date", d.date);
          td.addEventListener("click", function () { openDay(m, d, td); });
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      reveal($("village-panel"));
      document.body.setAttribute("data-loaded", "village");
    }).catch(function (e) { status(e.message); });
  }

  function openDay(member, day, cell) {
    Array.prototype.forEach.call(document.querySelectorAll("#team td.selected"), function (c) {
      c.classList.remove("selected");
    });
    cell.classList.add("selected");
    api("/checkins?member_id=" + member.member_id + "&from=" + day.date + "&to=" + day.date + "&limit=1000")
      .then(function (page) { drawDay(member, day, page.items); })
      .catch(function (e) { status(e.message); });
  }

  function drawDay(member, day, fixes) {
    $("day-panel").hidden = false;
    $("day-title").textContent = member.full_name + " · " + day.date + " · " + (STATUS[day.status] || day.status) +
      "（" + fixes.length + " 条定位）";
    var svg = $("fixes"), W = Math.round(Math.max(svg.getBoundingClientRect().width, 240)), H = Math.round(W * 0.75);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    // The frame holds the village and every fix with its accuracy circle.
    var extra = fixes.map(function (f) {
      var dLat = f.accuracy_m / 111320, dLon = dLat / Math.cos(f.latitude * Math.PI / 180);
      return { type: "Polygon", coordinates: [[[f.longitude - dLon, f.latitude - dLat], [f.longitude + dLon, f.latitude + dLat]]] };
    });
    var proj = projection([current.boundary].concat(extra), W, H, 14);
    svg.appendChild(el("path", { d: pathOf(current.boundary, proj), "class": "outline", "fill-rule": "evenodd" }));
    var list = $("fix-list");
    list.textContent = "";
    fixes.slice().reverse().forEach(function (f, i) {
      var q = proj.xy(f.longitude, f.latitude);
      var r = Math.max(f.accuracy_m / 111320 * proj.scale, 2);
      svg.appendChild(el("circle", { cx: q[0], cy: q[1], r: r, "class": "accuracy" }));
      var kind = f.voided ? "voided" : (f.credited ? "counted" : "flagged");
      var dot = el("circle", { cx: q[0], cy: q[1], r: 4, "class": "fix " + kind, "data-fix": f.id });
      dot.appendChild(el("title", {}, f.captured_at + " ±" + Math.round(f.accuracy_m) + " m"));
      svg.appendChild(dot);
      svg.appendChild(el("text", { x: q[0] + 6, y: q[1] - 6 }, String(i + 1)));
      var time = new Date(f.captured_at).toLocaleTimeString("zh-CN", { hour12: false, timeZone: zone });
      var li = html("li", time + " · ±" + Math.round(f.accuracy_m) + " 米 · " +
        ({ inside: "村内", near: "村界附近", outside: "村外" }[f.geofence] || "无派驻") +
        (f.voided ? " · 已作废" : f.credited ? " · 计入" : " · 不计入"));
      (f.flags || []).forEach(function (flag) { li.appendChild(html("span", FLAGS[flag] || flag, "flag")); });
      list.appendChild(li);
    });
    reveal($("day-panel"));
    document.body.setAttribute("data-loaded", "day");
  }

  if (token()) start(); else showLogin();
})();
