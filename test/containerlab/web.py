"""The lab's stand-in for what Cilium's datapath serves on a LoadBalancer IP: an HTTP server on
every address of the node (port 80) that answers with the node's name."""
import http.server
import sys

NODE = sys.argv[1].encode() + b"\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(NODE)))
        self.end_headers()
        self.wfile.write(NODE)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("0.0.0.0", 80), Handler).serve_forever()
