// The taizhang playground: GraphiQL (vendored, served by the binary) against this server.
// Queries and mutations go over HTTP POST with the headers of the headers editor (Authorization:
// Bearer <token>); subscriptions over graphql-transport-ws on /graphql/ws. No external URL.
(function () {
  'use strict';
  var httpUrl = new URL('/graphql', window.location.href).href;
  var wsUrl = httpUrl.replace(/^http/, 'ws') + '/ws';

  function isSubscription(params) {
    return /^\s*subscription\b/m.test(params.query || '') &&
      (!params.operationName || new RegExp('subscription\\s+' + params.operationName + '\\b').test(params.query));
  }

  // A minimal graphql-transport-ws client: one socket per subscription, as an async iterator.
  function subscribe(params, headers) {
    var queue = [], waiting = null, done = false;
    function push(item) {
      if (waiting) { var w = waiting; waiting = null; w(item); } else { queue.push(item); }
    }
    var socket = new WebSocket(wsUrl, 'graphql-transport-ws');
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: 'connection_init', payload: headers || {} }));
    };
    socket.onmessage = function (msg) {
      var m = JSON.parse(msg.data);
      if (m.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: params }));
      } else if (m.type === 'next') {
        push({ value: m.payload, done: false });
      } else if (m.type === 'error') {
        push({ value: { errors: m.payload }, done: false });
        push({ value: undefined, done: true });
      } else if (m.type === 'complete') {
        push({ value: undefined, done: true });
      } else if (m.type === 'ping') {
        socket.send(JSON.stringify({ type: 'pong' }));
      }
    };
    socket.onclose = function () { push({ value: undefined, done: true }); };
    return {
      next: function () {
        if (done) { return Promise.resolve({ value: undefined, done: true }); }
        if (queue.length) { var item = queue.shift(); done = item.done; return Promise.resolve(item); }
        return new Promise(function (resolve) { waiting = function (item) { done = item.done; resolve(item); }; });
      },
      return: function () {
        done = true;
        try { socket.send(JSON.stringify({ id: '1', type: 'complete' })); socket.close(); } catch (e) { /* closed */ }
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]: function () { return this; }
    };
  }

  // What the first screen shows before a token is pasted, instead of the server's 401.
  var NO_TOKEN = 'No token yet: paste {"Authorization": "Bearer tz_…"} into the Headers tab below ' +
    '(the token printed by `taizhang serve --demo` or `taizhang tokens create`), then press ↻ ' +
    'to load the schema. ' +
    '尚未填入访问令牌：请在下方 Headers 标签中粘贴 {"Authorization": "Bearer tz_…"}' +
    '（由 taizhang serve --demo 或 taizhang tokens create 生成），再点击 ↻ 加载接口说明。';

  function hasToken(headers) {
    var auth = '';
    Object.keys(headers).forEach(function (k) {
      if (k.toLowerCase() === 'authorization') { auth = String(headers[k]); }
    });
    return /^\s*Bearer\s+tz_\S+\s*$/.test(auth);
  }

  function fetcher(params, options) {
    var headers = Object.assign({}, (options && options.headers) || {});
    if (!hasToken(headers)) {
      return Promise.resolve({ errors: [{ message: NO_TOKEN, extensions: { code: 'NO_TOKEN_YET' } }] });
    }
    if (isSubscription(params)) { return subscribe(params, headers); }
    headers['Content-Type'] = 'application/json';
    headers['Accept'] = 'application/graphql-response+json, application/json';
    return fetch(httpUrl, { method: 'POST', headers: headers, body: JSON.stringify(params) })
      .then(function (r) { return r.json(); });
  }

  var defaultQuery = [
    '# taizhang 台账: the county\'s investment-project ledger.',
    '# Paste your API token into Headers below (Authorization: Bearer tz_...), then Ctrl-Enter.',
    '# 请在下方 Headers 中填入访问令牌（taizhang tokens create 生成）后运行。',
    '{',
    '  dashboard(year: ' + new Date().getFullYear() + ') {',
    '    asOf ytdInvestment plannedInvestment planCompletionPct',
    '    projectCount redCount yellowCount greenCount',
    '  }',
    '  projects(first: 10) { totalCount nodes { id name stage light } }',
    '}',
    ''
  ].join('\n');

  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: defaultQuery,
    defaultHeaders: '{\n  "Authorization": "Bearer <paste your token here>"\n}',
    isHeadersEditorEnabled: true,
    // A token is a password: forgotten at a reload, unless the user turns on "Persist headers"
    // in the settings (⚙), on a machine of their own.
    shouldPersistHeaders: false,
    showPersistHeadersSettings: true
  }));
})();
