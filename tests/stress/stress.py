"""stress.py [--long] [--only A1,A8.amplify] [--list]: runs the attacks of
attacks.py one after another, one line each, then 'N passed, N failed'.
Meant to run inside the namespace tests/stress/run makes (see there)."""
import atexit
import os
import signal
import subprocess
import sys
import time
import traceback

sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import attacks  # noqa: E402
import harness  # noqa: E402


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout()


def main():
    argv = sys.argv[1:]
    long_ = "--long" in argv
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1].split(",")
    if "--list" in argv:
        for name, _ in attacks.ATTACKS:
            print(name)
        return 0
    names = [n for n, _ in attacks.ATTACKS]
    for o in only or []:
        if not any(n == o or n.startswith(o + ".") for n in names):
            print("stress: no attack '%s' (see --list)" % o)
            return 2
    attacks.S.update(attacks.SIZES[long_])
    atexit.register(harness.stop_all)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    signal.signal(signal.SIGALRM, on_alarm)
    if subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                       "-subj", "/CN=edge.lab", "-keyout", attacks.KEY, "-out", attacks.CERT],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode:
        print("stress: openssl could not make a certificate")
        return 1
    print("stress: %s form; avedge %s; logs in %s" % ("long" if long_ else "short",
                                                      os.path.join(harness.BIN, "avedge"), harness.TMP))
    print("columns: rss before/peak/after-close, connections held by avedge at the peak, bytes the "
          "attacker sent/received, legitimate allocations served, their worst round trip, seconds")
    passed = failed = 0
    t0 = time.monotonic()
    for name, fn in attacks.ATTACKS:
        if only and not any(name == o or name.startswith(o + ".") for o in only):
            continue
        res = harness.Result(name)
        signal.alarm(900 if long_ else 150)
        try:
            fn(res)
        except Timeout:
            res.goal(False, "attack did not end within its time bound")
        except harness.AvedgeFailed as e:
            res.goal(False, str(e))
        except Exception as e:  # a broken attack is a failed one, with the reason
            res.goal(False, "%s: %s" % (type(e).__name__, e))
            traceback.print_exc(file=sys.stderr)
        finally:
            signal.alarm(0)
            harness.stop_all()
        print(res.line(), flush=True)
        if res.fails:
            failed += 1
        else:
            passed += 1
    print("stress: %d s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
