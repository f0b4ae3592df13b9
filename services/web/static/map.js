// The request form's map: a click (or Enter on a focused region) sets the point and the
// area of the request. Without this script the form still works: choose the area from the list.
(function () {
  function setup(svg) {
    var b = JSON.parse(svg.dataset.bounds);
    var lat = document.getElementById("f-lat"), long = document.getElementById("f-long");
    var region = document.getElementById("f-region");
    var pin = svg.querySelector(".pin");
    function choose(code, x, y) {
      if (region) region.value = code;
      svg.querySelectorAll(".region").forEach(function (r) {
        r.classList.toggle("chosen", r.dataset.code === code);
      });
      if (x !== undefined) {
        var lo = b.west + (x - b.pad) / (b.scale * b.squeeze), la = b.north - (y - b.pad) / b.scale;
        if (lat) lat.value = la.toFixed(5);
        if (long) long.value = lo.toFixed(5);
        pin.setAttribute("cx", x); pin.setAttribute("cy", y); pin.removeAttribute("hidden");
      }
    }
    svg.addEventListener("click", function (e) {
      var target = e.target.closest(".region");
      if (!target) return;
      var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;
      var at = p.matrixTransform(svg.getScreenCTM().inverse());
      choose(target.dataset.code, at.x, at.y);
    });
    svg.addEventListener("keydown", function (e) {
      var target = e.target.closest(".region");
      if (target && (e.key === "Enter" || e.key === " ")) {
        e.preventDefault();
        choose(target.dataset.code, parseFloat(target.dataset.x), parseFloat(target.dataset.y));
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("svg.map[data-bounds]").forEach(setup);
  });
})();
