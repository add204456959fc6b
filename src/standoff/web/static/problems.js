// The problems of a case as list items, shared by the pages that show them: where it is (FILE:LINE
// or "line N"), then the field and the message, all set as text.
window.standoffProblems = (function () {
  "use strict";

  // One problem as an <li>; `where` the place to show, `prefix` put before the message.
  function item(p, where, prefix) {
    const li = document.createElement("li");
    const place = document.createElement("span");
    place.className = "where";
    place.textContent = where;
    li.append(place, " " + p.field + ": " + (prefix || "") + p.message);
    return li;
  }

  // Replace the items of `list` by `problems` (each at FILE:LINE), then `message` if given.
  function fill(list, problems, message) {
    list.replaceChildren();
    for (const p of problems || []) list.appendChild(item(p, p.file + ":" + p.line));
    if (message) {
      const li = document.createElement("li");
      li.textContent = message;
      list.appendChild(li);
    }
  }

  return { item: item, fill: fill };
})();
