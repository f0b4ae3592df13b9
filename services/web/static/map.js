// The request form's maps: a click (or Enter on a focused region) sets the point and the
// area of the request, on every map of the page. Without this script the form still works:
// choose the area from the list. The maps are in Web Mercator (services/web/geo.py).
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  function toLonLat(b, x, y) {
    var mx = b.west + (x - b.pad) / b.scale, my = b.north + (y - b.pad) / b.scale;
    var lat = Math.atan(Math.sinh(Math.PI * (1 - 2 * my))) * 180 / Math.PI;
    return [mx * 360 - 180, lat];
  }
  function toXY(b, lon, lat) {
    var r = lat * Math.PI / 180;
    var my = (1 - Math.asinh(Math.tan(r)) / Math.PI) / 2, mx = (lon + 180) / 360;
    return [b.pad + (mx - b.west) * b.scale, b.pad + (my - b.north) * b.scale];
  }
  function choose(maps, code, lon, lat) {
    var region = document.getElementById("f-region");
    var latField = document.getElementById("f-lat"), longField = document.getElementById("f-long");
    if (region) region.value = code;
    if (latField) latField.value = lat.toFixed(5);
    if (longField) longField.value = lon.toFixed(5);
    maps.forEach(function (svg) {
      svg.querySelectorAll(".region").forEach(function (r) {
        r.classList.toggle("chosen", r.dataset.code === code);
      });
      var xy = toXY(JSON.parse(svg.dataset.bounds), lon, lat);
      var pin = svg.querySelector(".pin");
      if (!pin) {
        pin = document.createElementNS(SVG, "circle");
        pin.setAttribute("class", "pin"); pin.setAttribute("r", "5");
        svg.appendChild(pin);
      }
      pin.setAttribute("cx", xy[0]); pin.setAttribute("cy", xy[1]);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var maps = Array.prototype.slice.call(document.querySelectorAll("svg.map[data-bounds]"));
    maps.forEach(function (svg) {
      var b = JSON.parse(svg.dataset.bounds);
      svg.addEventListener("click", function (e) {
        var target = e.target.closest(".region");
        if (!target) return;
        var p = svg.createSVGPoint(); p.x = e.clientX; p.y = e.clientY;
        var at = p.matrixTransform(svg.getScreenCTM().inverse());
        var lonLat = toLonLat(b, at.x, at.y);
        choose(maps, target.dataset.code, lonLat[0], lonLat[1]);
      });
      svg.addEventListener("keydown", function (e) {
        var target = e.target.closest(".region");
        if (target && (e.key === "Enter" || e.key === " ")) {
          e.preventDefault();
          var lonLat = toLonLat(b, parseFloat(target.dataset.x), parseFloat(target.dataset.y));
          choose(maps, target.dataset.code, lonLat[0], lonLat[1]);
        }
      });
    });
  });
})();
