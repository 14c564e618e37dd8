"""Servers on 127.0.0.1 for the SMTP transport's tests: Microsoft's token endpoint and an
Exchange-like SMTP server that offers AUTH XOAUTH2 only after STARTTLS."""

import base64
import http.server
import json
import socketserver
import ssl
import threading
import urllib.parse


class _Threaded:
    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def port(self):
        return self.server.server_address[1]


class TokenServer(_Threaded):
    """POST /<tenant>/oauth2/v2.0/token with a client-credentials form -> a bearer token."""

    def __init__(self, token):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.requests.append({"path": self.path, "form": urllib.parse.parse_qs(body),
                                       "content_type": self.headers["Content-Type"]})
                answer = json.dumps({"token_type": "Bearer", "expires_in": 3599, "access_token": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"


class SmtpServer(_Threaded):
    """Accepts AUTH XOAUTH2 for user with token, only over TLS; records what it receives."""

    def __init__(self, certfile, keyfile, user, token):
        self.user, self.token = user, token
        self.tls_before_auth = False
        self.authenticated, self.messages = [], []
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certfile, keyfile)
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, *lines):
                for i, line in enumerate(lines):
                    sep = " " if i == len(lines) - 1 else "-"
                    self.wfile.write(f"{line[:3]}{sep}{line[4:]}\r\n".encode())
                self.wfile.flush()

            def handle(self):
                tls, authenticated, envelope = False, False, {"rcpt": []}
                self.reply("220 localhost ESMTP")
                while True:
                    line = self.rfile.readline().decode().rstrip("\r\n")
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 localhost", "250 AUTH XOAUTH2" if tls else "250 STARTTLS")
                    elif verb == "STARTTLS" and not tls:
                        self.reply("220 2.0.0 ready")
                        self.request = context.wrap_socket(self.request, server_side=True)
                        self.rfile, self.wfile = self.request.makefile("rb"), self.request.makefile("wb")
                        tls = True
                    elif verb == "AUTH" and tls and line.split()[1].upper() == "XOAUTH2":
                        outer.tls_before_auth = True
                        sent = base64.b64decode(line.split()[2]).decode()
                        if sent == f"user={outer.user}\x01auth=Bearer {outer.token}\x01\x01":
                            authenticated = True
                            outer.authenticated.append(outer.user)
                            self.reply("235 2.7.0 Authentication successful")
                        else:
                            error = base64.b64encode(json.dumps({"status": "401", "schemes": "bearer"}).encode()).decode()
                            self.reply("334 " + error)
                            self.rfile.readline()  # the client's empty answer
                            self.reply("535 5.7.3 Authentication unsuccessful")
                    elif verb == "MAIL" and authenticated:
                        envelope = {"rcpt": []}
                        self.reply("250 OK")
                    elif verb == "RCPT" and authenticated:
                        envelope["rcpt"].append(line.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA" and authenticated:
                        self.reply("354 go ahead")
                        data = b""
                        while (chunk := self.rfile.readline()) != b".\r\n":
                            data += chunk
                        outer.messages.append(dict(envelope, data=data))
                        self.reply("250 queued")
                    elif verb == "QUIT" or not line:
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("530 5.7.57 Client not authenticated")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
