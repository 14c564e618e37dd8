// Viewer-request function of the web app's default behavior (CloudFront Functions,
// cloudfront-js-2.0). A deep link such as /cotizaciones/123 or /proveedores/acme.co names no
// file: it gets the app's index.html, and the React router shows the page. Only a request for
// a static asset passes through unchanged, so a missing asset is still an error: anything under
// /assets/ (the build's output folder), and a last segment whose extension is a file type the
// build publishes. A dot alone does not make a file: names, domains and versions in a path
// (acme.co, v1.2) are routes. /api/* never reaches this function: it has its own behavior, so
// an API error stays an API error.
var STATIC_EXTENSIONS = {
    js: true, mjs: true, css: true, map: true, html: true, json: true, txt: true, xml: true,
    webmanifest: true, ico: true, png: true, jpg: true, jpeg: true, gif: true, svg: true,
    webp: true, avif: true, woff: true, woff2: true, ttf: true, otf: true, eot: true,
    pdf: true, mp4: true, webm: true, wasm: true
};

function isStaticAsset(uri) {
    if (uri.indexOf('/assets/') === 0) {
        return true;
    }
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    var dot = last.lastIndexOf('.');
    return dot > 0 && STATIC_EXTENSIONS[last.substring(dot + 1).toLowerCase()] === true;
}

function handler(event) {
    var request = event.request;
    if (!isStaticAsset(request.uri)) {
        request.uri = '/index.html';
    }
    return request;
}
