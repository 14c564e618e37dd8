// Viewer-request function of the web app's default behavior (CloudFront Functions,
// cloudfront-js-2.0). A deep link such as /cotizaciones/123 names no file: it gets the app's
// index.html, and the React router shows the page. A path whose last segment has an
// extension (/assets/index-4f2a.js, /favicon.ico) is a file and passes through unchanged, so
// a missing file is still an error. /api/* never reaches this function: it has its own
// behavior, so an API error stays an API error.
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    var last = uri.substring(uri.lastIndexOf('/') + 1);
    if (last.indexOf('.') === -1) {
        request.uri = '/index.html';
    }
    return request;
}
