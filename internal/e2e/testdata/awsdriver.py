"""Runs aws CLI commands for the end-to-end tests, one per input line.

Each line is a JSON object {"args": [...], "env": {...}}; the answer is one
line {"code": N, "stdout": "...", "stderr": "..."}. Every command runs
through awscli.clidriver, as the aws command does, with a new driver and
session built from the command's own environment: only Python's start and
the imports are shared, which is most of what an aws command costs.
"""

import io, json, os, sys

def main():
    import awscli.clidriver
    # Importing awscli adds its data directory to AWS_DATA_PATH, as the
    # aws command's own start does; every call keeps it.
    data_path = os.environ["AWS_DATA_PATH"]
    out = sys.stdout
    for line in sys.stdin:
        req = json.loads(line)
        os.environ.clear()
        os.environ.update(req["env"])
        os.environ["AWS_DATA_PATH"] = data_path
        so, se = io.StringIO(), io.StringIO()
        sys.stdout, sys.stderr = so, se
        try:
            code = awscli.clidriver.create_clidriver().main(req["args"])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException as e:
            se.write("driver: %r\n" % (e,))
            code = 255
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        out.write(json.dumps({"code": code or 0, "stdout": so.getvalue(), "stderr": se.getvalue()}) + "\n")
        out.flush()

main()
