"""peers.py KIND ADDR:PORT SECONDS: a peer for the stress suite, run in the
peer namespace. udp: echoes every datagram (up to 65535 bytes, which
edgeprobe echo's 2048-byte buffer cannot). tcp: accepts any number of
connections and echoes what each sends. Ends after SECONDS. The udp peer
prints each datagram's size, one a line, for the suite to check."""
import selectors
import socket
import sys
import time


def main():
    kind, addr, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    host, port = addr.rsplit(":", 1)
    end = time.monotonic() + seconds
    sel = selectors.DefaultSelector()
    if kind == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((host, int(port)))
        while time.monotonic() < end:
            s.settimeout(max(0.1, end - time.monotonic()))
            try:
                data, src = s.recvfrom(65536)
            except socket.timeout:
                continue
            print(len(data), flush=True)
            s.sendto(data, src)
        return
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1024)
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ)
    while time.monotonic() < end:
        for key, _ in sel.select(0.2):
            if key.fileobj is ls:
                try:
                    c, _ = ls.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ)
                continue
            c = key.fileobj
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(c)
                c.close()
                continue
            c.setblocking(True)
            c.settimeout(2)
            try:
                c.sendall(data)
            except OSError:
                pass
            c.setblocking(False)


if __name__ == "__main__":
    main()
