// The workspace's shared script: nothing here is needed to read a page; it only adds
// conveniences (confirming sign-out is not one of them: one click signs out).
"use strict";
(function () {
  // Scripts that post with fetch() send the page's CSRF token in this header.
  window.tzCsrf = function () {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  };
})();
