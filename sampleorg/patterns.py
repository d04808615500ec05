"""Failure shapes: 25 recurring root causes, one-off failures and network flakes.

A renderer returns the output lines a tool prints when it fails (no timestamps), the
`##[error]` annotations and a headline (the line a human would paste into a ticket). Variable
parts (paths, line numbers, ids, ports, hashes, durations) change on every occurrence so
fingerprinting has to see past them.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass

ESC = "\x1b"
RED = f"{ESC}[31m"
BOLD_RED = f"{ESC}[1m{ESC}[31m"
GREEN = f"{ESC}[32m"
RESET = f"{ESC}[0m"


@dataclass(frozen=True)
class Failure:
    lines: list[str]
    annotations: list[str]
    headline: str
    exit_code: int = 1


Renderer = Callable[[random.Random, str], Failure]


@dataclass(frozen=True)
class PatternDef:
    pattern_id: str
    title: str
    toolchains: tuple[str, ...]
    kind: str  # job kind the failure appears in
    render: Renderer
    cross_repo: bool = False


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _ms(rng: random.Random, lo: float, hi: float) -> str:
    return f"{rng.uniform(lo, hi):.2f}"


def _work(repo: str) -> str:
    return f"/home/runner/work/{repo}/{repo}"


def _py_tb(rng: random.Random, repo: str, frames: list[tuple[str, str, str]]) -> list[str]:
    out = ["Traceback (most recent call last):"]
    for path, func, code in frames:
        out.append(f'  File "{_work(repo)}/{path}", line {rng.randint(12, 480)}, in {func}')
        out.append(f"    {code}")
    return out


def _pytest_summary(rng: random.Random, failed: list[str], dur: float) -> list[str]:
    passed = rng.randint(180, 900)
    out = ["=========================== short test summary info ============================"]
    out += [f"FAILED {f}" for f in failed]
    out.append(f"{RED}========== {len(failed)} failed, {passed} passed, {rng.randint(0, 9)} skipped"
               f" in {dur:.2f}s =========={RESET}")
    return out


# ---------------------------------------------------------------- recurring patterns


def _p_webhook_retry(rng: random.Random, repo: str) -> Failure:
    attempt = rng.randint(2, 5)
    got = rng.choice([1, 2, 4])
    test = f"tests/integration/test_webhook_retry.py::test_retry_backoff[attempt{attempt}]"
    msg = f"AssertionError: expected 3 delivery attempts, got {got}"
    lines = [f"{'_' * 30} test_retry_backoff[attempt{attempt}] {'_' * 30}", "",
             "    def test_retry_backoff(attempt, fake_clock, receiver):",
             f"        deliver(event_id=\"evt_{_hex(rng, 24)}\", attempt=attempt)",
             f"        fake_clock.advance(seconds={rng.randint(30, 900)})",
             ">       assert receiver.attempts == 3, "
             "f\"expected 3 delivery attempts, got {receiver.attempts}\"",
             f"E       {msg}",
             f"E       assert {got} == 3",
             "",
             f"tests/integration/test_webhook_retry.py:{rng.randint(40, 140)}: AssertionError",
             "----------------------------- Captured log call ------------------------------",
             f"WARNING  webhook.delivery:delivery.py:{rng.randint(60, 200)} receiver "
             f"http://127.0.0.1:{rng.randint(30000, 60000)}/hook returned 503 after "
             f"{rng.randint(900, 5000)}ms"]
    lines += _pytest_summary(rng, [f"{test} - {msg}"], rng.uniform(40, 200))
    return Failure(lines, [], f"FAILED {test} - {msg}")


def _p_pg_refused(rng: random.Random, repo: str) -> Failure:
    port = rng.choice([5432, 5433, rng.randint(49152, 65535)])
    mod = rng.choice(["test_orders", "test_refunds", "test_accounts", "test_jobs", "test_events"])
    msg = (f'psycopg2.OperationalError: connection to server at "127.0.0.1", port {port} failed: '
           "Connection refused")
    lines = [f"{'_' * 20} ERROR at setup of {mod}.test_{rng.choice(['create', 'list', 'update'])} "
             f"{'_' * 20}"]
    lines += _py_tb(rng, repo, [("tests/conftest.py", "db", "conn = psycopg2.connect(dsn)"),
                                (".venv/lib/python3.11/site-packages/psycopg2/__init__.py",
                                 "connect", "conn = _connect(dsn, connection_factory=connection_"
                                 "factory, **kwasync)")])
    lines += [f"E   {msg}", "E   \tIs the server running on that host and accepting TCP/IP "
              "connections?"]
    lines += _pytest_summary(rng, [f"tests/{mod}.py::test_x - {msg}"], rng.uniform(5, 30))
    name = f"test_{rng.choice(['a', 'b', 'c'])}{rng.randint(1, 40)}"
    lines[-2] = lines[-2].replace("test_x", name)
    return Failure(lines, [], f"ERROR tests/conftest.py - {msg}")


def _p_ledger_timeout(rng: random.Random, repo: str) -> Failure:
    secs = rng.choice([60, 120, 300])
    test = "tests/test_reconcile.py::test_reconcile_large_batch"
    lines = [f"{'+' * 30} Timeout {'+' * 30}",
             f"~~~~~~~~~~~~~~~~~~~~~ Stack of <ThreadPoolExecutor-0_{rng.randint(0, 7)}> "
             f"({rng.getrandbits(47)}) ~~~~~~~~~~~~~~~~~~~~~",
             f'  File "/usr/lib/python3.11/threading.py", line {rng.randint(300, 1000)}, in wait',
             "    waiter.acquire()",
             f"{'+' * 30} Timeout {'+' * 30}",
             f"E       Failed: Timeout >{secs}.0s"]
    lines += _pytest_summary(rng, [f"{test} - Failed: Timeout >{secs}.0s"],
                             secs + rng.uniform(5, 90))
    return Failure(lines, [], f"FAILED {test} - Failed: Timeout >{secs}.0s")


def _p_money_rounding(rng: random.Random, repo: str) -> Failure:
    v = f"10.0{rng.randint(1, 9)}"
    lines = ["test_currency_rounding (tests.test_money.MoneyTests.test_currency_rounding) ... FAIL",
             "", "=" * 70,
             "FAIL: test_currency_rounding (tests.test_money.MoneyTests.test_currency_rounding)",
             "-" * 70]
    lines += _py_tb(rng, repo, [("tests/test_money.py", "test_currency_rounding",
                                 "self.assertEqual(round_half_even(amount), Decimal('10.00'))")])
    msg = f"AssertionError: Decimal('{v}') != Decimal('10.00')"
    lines += [msg, "", "-" * 70, f"Ran {rng.randint(90, 400)} tests in {_ms(rng, 2, 40)}s", "",
              f"FAILED (failures=1, skipped={rng.randint(0, 4)})"]
    return Failure(lines, [], f"FAIL: test_currency_rounding - {msg}")


def _p_import_retry(rng: random.Random, repo: str) -> Failure:
    ver = f"3.{rng.randint(11, 12)}"
    msg = ("ImportError: cannot import name 'RetryPolicy' from 'acme_http.retry' "
           f"(/opt/hostedtoolcache/Python/{ver}.{rng.randint(1, 9)}/x64/lib/python{ver}/"
           "site-packages/acme_http/retry.py)")
    lines = ["==================================== ERRORS ====================================",
             f"{'_' * 15} ERROR collecting tests/test_client_{rng.randint(1, 30)}.py {'_' * 15}",
             "ImportError while importing test module.", "Hint: make sure your test modules/"
             "packages have valid Python names.", "Traceback:"]
    lines += _py_tb(rng, repo, [("src/client/session.py", "<module>",
                                 "from acme_http.retry import RetryPolicy")])
    lines += [f"E   {msg}"]
    lines += _pytest_summary(rng, [], rng.uniform(2, 9))
    lines[-1] = lines[-1].replace("0 failed", "1 error")
    return Failure(lines, [], msg)


def _p_jest_snapshot(rng: random.Random, repo: str) -> Failure:
    total = f"${rng.randint(10, 999)}.{rng.randint(10, 99)}"
    lines = [f"{ESC}[1m{ESC}[31m  ● {RESET}{ESC}[1mCheckoutForm › renders totals › matches snapshot"
             f"{RESET}", "",
             f"    {ESC}[2mexpect({RESET}{RED}received{RESET}{ESC}[2m).{RESET}toMatchSnapshot"
             f"{ESC}[2m(){RESET}", "",
             "    Snapshot name: `CheckoutForm renders totals 1`", "",
             f"    {GREEN}- Snapshot  - 1{RESET}", f"    {RED}+ Received  + 1{RESET}", "",
             f"    {GREEN}-       <span class=\"total\">{total}</span>{RESET}",
             f"    {RED}+       <span class=\"total\">{total} </span>{RESET}", "",
             f"      at Object.<anonymous> (src/components/CheckoutForm.test.tsx:"
             f"{rng.randint(20, 120)}:{rng.randint(5, 40)})", "",
             f" {ESC}[1m› 1 snapshot failed{RESET} from 1 test suite.",
             f"{ESC}[1mTests:{RESET}       {RED}1 failed{RESET}, {GREEN}{rng.randint(200, 700)} "
             f"passed{RESET}, {rng.randint(200, 700)} total",
             f"{ESC}[1mTime:{RESET}        {_ms(rng, 20, 90)} s"]
    return Failure(lines, [], "● CheckoutForm › renders totals › matches snapshot "
                   "(1 snapshot failed)")


def _p_jest_timeout(rng: random.Random, repo: str) -> Failure:
    lines = [f"{BOLD_RED}  ● {RESET}{ESC}[1msession refresh › retries after a 401{RESET}", "",
             "    thrown: \"Exceeded timeout of 5000 ms for a test.",
             "    Add a timeout value to this test to increase the timeout, if this is a long-"
             "running test. See https://jestjs.io/docs/api#testname-fn-timeout.\"", "",
             f"      {rng.randint(30, 90)} |   it('retries after a 401', async () => {{",
             f"      at src/auth/session.test.ts:{rng.randint(30, 90)}:{rng.randint(3, 9)}",
             f"{ESC}[1mTests:{RESET}       {RED}1 failed{RESET}, {rng.randint(100, 500)} passed"]
    return Failure(lines, [], "● session refresh › retries after a 401: thrown: \"Exceeded "
                   "timeout of 5000 ms for a test.")


def _p_npm_eresolve(rng: random.Random, repo: str) -> Failure:
    v = f"18.{rng.randint(2, 3)}.{rng.randint(0, 1)}"
    lines = ["npm ERR! code ERESOLVE", "npm ERR! ERESOLVE unable to resolve dependency tree",
             "npm ERR! ", f"npm ERR! While resolving: @acme/{repo}@{rng.randint(1, 4)}."
             f"{rng.randint(0, 40)}.{rng.randint(0, 9)}",
             f"npm ERR! Found: react@{v}", "npm ERR! node_modules/react",
             f"npm ERR!   react@\"^{v}\" from the root project", "npm ERR! ",
             "npm ERR! Could not resolve dependency:",
             "npm ERR! peer react@\"^19.0.0\" from @acme/design-system@4.0.0",
             "npm ERR! node_modules/@acme/design-system", "npm ERR! ",
             "npm ERR! Fix the upstream dependency conflict, or retry",
             "npm ERR! this command with --force or --legacy-peer-deps", "npm ERR! ",
             f"npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/"
             f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}_"
             f"{rng.randint(0, 59):02d}_{rng.randint(0, 59):02d}_{rng.randint(100, 999)}Z-"
             "debug-0.log"]
    return Failure(lines, [], "npm ERR! ERESOLVE unable to resolve dependency tree: peer "
                   "react@\"^19.0.0\" from @acme/design-system@4.0.0")


def _p_docker_ratelimit(rng: random.Random, repo: str) -> Failure:
    img = rng.choice(["python:3.11-slim", "node:20-alpine", "golang:1.22", "postgres:15"])
    lines = [f"#{rng.randint(2, 6)} [internal] load metadata for docker.io/library/{img}",
             f"#{rng.randint(2, 6)} ERROR: failed to authorize: failed to fetch anonymous token: "
             "unexpected status: 429 Too Many Requests",
             "------", f" > [internal] load metadata for docker.io/library/{img}:", "------",
             f"ERROR: failed to solve: {img}: failed to resolve source metadata for "
             f"docker.io/library/{img}: toomanyrequests: You have reached your pull rate limit. "
             "You may increase the limit by authenticating and upgrading: "
             "https://www.docker.com/increase-rate-limit"]
    return Failure(lines, ["##[error]buildx failed with: ERROR: failed to solve: "
                           f"{img}: toomanyrequests: You have reached your pull rate limit."],
                   "toomanyrequests: You have reached your pull rate limit.")


def _p_go_lease(rng: random.Random, repo: str) -> Failure:
    d = rng.randint(1200, 4000)
    line = rng.randint(80, 260)
    lines = ["=== RUN   TestScheduler_LeaseExpiry",
             f"    scheduler_test.go:{line}: lease not expired after {d}ms "
             f"(lease id {_hex(rng, 12)})",
             f"--- FAIL: TestScheduler_LeaseExpiry ({d / 1000:.2f}s)",
             "FAIL", f"FAIL\tgithub.com/acme/{repo}/internal/scheduler\t{_ms(rng, 3, 12)}s"]
    return Failure(lines, [], f"--- FAIL: TestScheduler_LeaseExpiry: scheduler_test.go:{line}: "
                   "lease not expired")


def _p_go_race(rng: random.Random, repo: str) -> Failure:
    a = f"0x00c{_hex(rng, 9)}"
    lines = ["==================", "WARNING: DATA RACE",
             f"Write at {a} by goroutine {rng.randint(7, 300)}:",
             f"  github.com/acme/{repo}/internal/cache.(*LRU).Set()",
             f"      {_work(repo)}/internal/cache/lru.go:{rng.randint(40, 120)} +0x{_hex(rng, 3)}",
             "", f"Previous read at {a} by goroutine {rng.randint(7, 300)}:",
             f"  github.com/acme/{repo}/internal/cache.(*LRU).Get()",
             f"      {_work(repo)}/internal/cache/lru.go:{rng.randint(40, 120)} +0x{_hex(rng, 3)}",
             "==================", "--- FAIL: TestCacheConcurrentWrites "
             f"({_ms(rng, 0.01, 0.9)}s)",
             f"    testing.go:{rng.choice([1398, 1465, 1490])}: race detected during execution "
             "of test", "FAIL",
             f"FAIL\tgithub.com/acme/{repo}/internal/cache\t{_ms(rng, 1, 4)}s"]
    return Failure(lines, [], "WARNING: DATA RACE in (*LRU).Set — --- FAIL: "
                   "TestCacheConcurrentWrites")


def _p_errcheck(rng: random.Random, repo: str) -> Failure:
    f = rng.choice(["internal/api/handler.go", "internal/store/pg.go", "cmd/server/main.go"])
    line, col = rng.randint(20, 400), rng.randint(2, 30)
    lines = [f"{f}:{line}:{col}: Error return value of `rows.Close` is not checked (errcheck)",
             "\tdefer rows.Close()", "\t           ^"]
    return Failure(lines, [f"##[error]{f}:{line}:{col}: Error return value of `rows.Close` is "
                           "not checked (errcheck)"],
                   "Error return value of `rows.Close` is not checked (errcheck)")


def _java_stack(rng: random.Random, frames: list[str]) -> list[str]:
    out = []
    for fr in frames:
        out.append(f"\tat {fr}")
    out.append(f"\t... {rng.randint(30, 90)} more")
    return out


def _p_maven_recon(rng: random.Random, repo: str) -> Failure:
    a, b = rng.randint(1000, 99999), rng.randint(1000, 99999)
    lines = [f"[ERROR] Tests run: {rng.randint(20, 80)}, Failures: 1, Errors: 0, Skipped: 0, "
             f"Time elapsed: {_ms(rng, 1, 30)} s <<< FAILURE! -- in "
             "com.acme.ledger.ReconciliationServiceTest",
             "[ERROR] com.acme.ledger.ReconciliationServiceTest.reconcilesSplitPayments -- "
             f"Time elapsed: {_ms(rng, 0.1, 3)} s <<< FAILURE!",
             f"org.opentest4j.AssertionFailedError: expected: <{a}> but was: <{b}>"]
    lines += _java_stack(rng, [
        "org.junit.jupiter.api.AssertionFailureBuilder.build(AssertionFailureBuilder.java:151)",
        "org.junit.jupiter.api.AssertEquals.failNotEqual(AssertEquals.java:197)",
        "com.acme.ledger.ReconciliationServiceTest.reconcilesSplitPayments("
        f"ReconciliationServiceTest.java:{rng.randint(50, 300)})"])
    lines += ["", "[INFO] Results:", "[INFO] ", "[ERROR] Failures: ",
              "[ERROR]   ReconciliationServiceTest.reconcilesSplitPayments:"
              f"{rng.randint(50, 300)} expected: <{a}> but was: <{b}>",
              f"[ERROR] Tests run: {rng.randint(300, 900)}, Failures: 1, Errors: 0, Skipped: "
              f"{rng.randint(0, 9)}", "[INFO] BUILD FAILURE",
              "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-surefire-plugin:"
              "3.2.5:test (default-test) on project ledger-service: There are test failures."]
    return Failure(lines, [], "ReconciliationServiceTest.reconcilesSplitPayments: "
                   "AssertionFailedError: expected: <N> but was: <M>")


def _p_gradle_oom(rng: random.Random, repo: str) -> Failure:
    lines = ["> Task :app:compileTestKotlin",
             "Exception in thread \"Daemon worker\" java.lang.OutOfMemoryError: Java heap space",
             "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)",
             "\tat org.gradle.internal.serialize.kryo.KryoBackedEncoder.writeBytes("
             "KryoBackedEncoder.java:" + str(rng.randint(90, 140)) + ")",
             "", "FAILURE: Build failed with an exception.", "", "* What went wrong:",
             "Gradle build daemon disappeared unexpectedly (it may have been killed or may have "
             "crashed)", "", "* Try:", "> Run with --stacktrace option to get the stack trace.",
             "", f"BUILD FAILED in {rng.randint(1, 9)}m {rng.randint(0, 59)}s",
             f"{rng.randint(20, 90)} actionable tasks: {rng.randint(5, 40)} executed, "
             f"{rng.randint(5, 50)} up-to-date"]
    return Failure(lines, [], "java.lang.OutOfMemoryError: Java heap space — Gradle build daemon "
                   "disappeared unexpectedly")


def _p_testcontainers(rng: random.Random, repo: str) -> Failure:
    cid = _hex(rng, 64)
    lines = [f"[ERROR] com.acme.{repo.split('-')[0]}.RepositoryIT -- Time elapsed: "
             f"{_ms(rng, 30, 120)} s <<< ERROR!",
             "org.testcontainers.containers.ContainerLaunchException: Container startup failed "
             "for image postgres:15.6",
             "\tat org.testcontainers.containers.GenericContainer.doStart(GenericContainer.java:"
             f"{rng.randint(340, 360)})",
             f"\tat com.acme.{repo.split('-')[0]}.RepositoryIT.setUp(RepositoryIT.java:"
             f"{rng.randint(30, 90)})",
             "Caused by: org.rnorth.ducttape.RetryCountExceededException: Retry limit hit with "
             "exception",
             f"Caused by: org.testcontainers.containers.ContainerLaunchException: Timed out "
             f"waiting for container port to open (localhost ports: [{rng.randint(32768, 60999)}]"
             " should be listening)",
             f"[ERROR] container {cid[:12]} logs: database system is starting up"]
    lines += _java_stack(rng, ["org.testcontainers.containers.wait.strategy.HostPortWaitStrategy"
                               ".waitUntilReady(HostPortWaitStrategy.java:109)"])
    lines += ["[INFO] BUILD FAILURE"]
    return Failure(lines, [], "ContainerLaunchException: Container startup failed for image "
                   "postgres:15.6")


def _p_cargo_rounding(rng: random.Random, repo: str) -> Failure:
    left = f"{rng.randint(1, 999)}.{rng.randint(0, 9)}5"
    lines = ["running 214 tests", "test pricing::tests::rounding_half_even ... FAILED",
             "", "failures:", "", "---- pricing::tests::rounding_half_even stdout ----",
             f"thread 'pricing::tests::rounding_half_even' panicked at src/pricing.rs:"
             f"{rng.randint(100, 400)}:{rng.randint(5, 20)}:",
             "assertion `left == right` failed", f"  left: {left}",
             f" right: {left[:-1]}4",
             "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
             "", "failures:", "    pricing::tests::rounding_half_even", "",
             f"test result: FAILED. {rng.randint(150, 213)} passed; 1 failed; 0 ignored; 0 "
             f"measured; 0 filtered out; finished in {_ms(rng, 0.5, 9)}s", "",
             "error: test failed, to rerun pass `--lib`"]
    return Failure(lines, [], "thread 'pricing::tests::rounding_half_even' panicked: assertion "
                   "`left == right` failed")


def _p_cargo_e0599(rng: random.Random, repo: str) -> Failure:
    line = rng.randint(40, 300)
    lines = [f"{ESC}[0m{ESC}[1m{ESC}[38;5;9merror[E0599]{ESC}[0m{ESC}[0m{ESC}[1m: no method "
             f"named `as_millis_f64` found for struct `Duration` in the current scope{ESC}[0m",
             f"   --> src/metrics.rs:{line}:{rng.randint(10, 40)}", "    |",
             f"{line} |     let ms = elapsed.as_millis_f64();",
             "    |                      ^^^^^^^^^^^^^ help: there is a method with a similar "
             "name: `as_millis`", "",
             "error: could not compile `" + repo + "` (lib) due to 1 previous error"]
    return Failure(lines, [], "error[E0599]: no method named `as_millis_f64` found for struct "
                   "`Duration`")


def _p_gcc_span(rng: random.Random, repo: str) -> Failure:
    line, col = rng.randint(20, 200), rng.randint(5, 30)
    pct = rng.randint(20, 80)
    lines = [f"[ {pct}%] Building CXX object src/codec/CMakeFiles/codec.dir/frame_parser.cc.o",
             f"{_work(repo)}/src/codec/frame_parser.cc:{line}:{col}: error: 'span' in "
             "namespace 'std' does not name a template type",
             f"  {line} |     std::span<const uint8_t> payload_;",
             "      |          ^~~~",
             f"{_work(repo)}/src/codec/frame_parser.cc:{rng.randint(1, 15)}:1: note: "
             "'std::span' is defined in header '<span>'; did you forget to '#include <span>'?",
             f"gmake[2]: *** [src/codec/CMakeFiles/codec.dir/build.make:{rng.randint(70, 200)}: "
             "src/codec/CMakeFiles/codec.dir/frame_parser.cc.o] Error 1",
             f"gmake[1]: *** [CMakeFiles/Makefile2:{rng.randint(100, 400)}: "
             "src/codec/CMakeFiles/codec.dir/all] Error 2",
             "gmake: *** [Makefile:146: all] Error 2"]
    return Failure(lines, [], "frame_parser.cc: error: 'span' in namespace 'std' does not name "
                   "a template type")


def _p_ctest_segfault(rng: random.Random, repo: str) -> Failure:
    n = rng.randint(10, 60)
    lines = [f"{n}/{n + rng.randint(5, 30)} Test #{n}: decoder_fuzz_regression ...........***"
             f"Exception: SegFault  {_ms(rng, 0.1, 4)} sec",
             f"{rng.randint(90, 98)}% tests passed, 1 tests failed out of {n + 20}", "",
             f"Total Test time (real) = {_ms(rng, 10, 90)} sec", "",
             "The following tests FAILED:",
             f"\t {n} - decoder_fuzz_regression (SEGFAULT)",
             "Errors while running CTest"]
    return Failure(lines, [], "The following tests FAILED: decoder_fuzz_regression (SEGFAULT)")


def _p_tf_lock(rng: random.Random, repo: str) -> Failure:
    lock = _uuid(rng)
    who = rng.choice(["runner@fv-az", "ci@gha-runner-"]) + str(rng.randint(100, 999))
    lines = ["╷", "│ Error: Error acquiring the state lock", "│ ",
             "│ Error message: operation error DynamoDB: PutItem, https response error "
             f"StatusCode: 400, RequestID: {_hex(rng, 8).upper()}, "
             "ConditionalCheckFailedException: The conditional request failed",
             "│ Lock Info:", f"│   ID:        {lock}",
             f"│   Path:      acme-tfstate/{repo}/prod/terraform.tfstate",
             "│   Operation: OperationTypePlan", f"│   Who:       {who}",
             "│   Version:   1.9.8", "│ ",
             "│ Terraform acquires a state lock to protect the state from being written",
             "│ by multiple users at the same time. Please resolve the issue above and try",
             "│ again. For most commands, you can disable locking with the \"-lock=false\"",
             "│ flag, but this is not recommended.", "╵"]
    return Failure(lines, [], "Error: Error acquiring the state lock "
                   "(ConditionalCheckFailedException)")


def _p_helm_timeout(rng: random.Random, repo: str) -> Failure:
    lines = [f"Creating cluster \"kind-{_hex(rng, 6)}\" ...", " ✓ Ensuring node image "
             "(kindest/node:v1.30.0) 🖼", " ✓ Preparing nodes 📦",
             f"Release \"{repo}\" does not exist. Installing it now.",
             f"Error: INSTALLATION FAILED: context deadline exceeded: timed out waiting for the "
             f"condition (pod {repo}-{_hex(rng, 10)}-{_hex(rng, 5)} not ready: "
             "CrashLoopBackOff)"]
    return Failure(lines, [], "Error: INSTALLATION FAILED: timed out waiting for the condition")


def _p_playwright(rng: random.Random, repo: str) -> Failure:
    lines = [f"  1) [chromium] › tests/checkout.spec.ts:{rng.randint(10, 90)}:"
             f"{rng.randint(3, 9)} › checkout › submits order with saved card ────",
             "", "    TimeoutError: page.waitForSelector: Timeout 30000ms exceeded.",
             "    Call log:",
             "      - waiting for locator('[data-test=checkout-submit]') to be visible", "",
             f"      at tests/checkout.spec.ts:{rng.randint(10, 90)}:{rng.randint(10, 30)}", "",
             "  1 failed", "    [chromium] › tests/checkout.spec.ts › checkout › submits "
             "order with saved card", f"  {rng.randint(30, 90)} passed ({_ms(rng, 60, 300)}s)"]
    return Failure(lines, [], "TimeoutError: page.waitForSelector: Timeout 30000ms exceeded "
                   "waiting for [data-test=checkout-submit]")


def _p_pip_conflict(rng: random.Random, repo: str) -> Failure:
    v = f"2.{rng.randint(3, 9)}.{rng.randint(0, 5)}"
    lines = [f"ERROR: Cannot install acme-sdk=={v} and protobuf==5.{rng.randint(26, 28)}.0 "
             "because these package versions have conflicting dependencies.", "",
             "The conflict is caused by:", "    The user requested protobuf==5.27.0",
             f"    acme-sdk {v} depends on protobuf<5 and >=4.21", "",
             "To fix this you could try to:",
             "1. loosen the range of package versions you've specified",
             "2. remove package versions to allow pip to attempt to solve the dependency conflict",
             "", "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/"
             "topics/dependency-resolution/#dealing-with-dependency-conflicts"]
    return Failure(lines, [], "ERROR: ResolutionImpossible: acme-sdk depends on protobuf<5")


def _p_no_space(rng: random.Random, repo: str) -> Failure:
    layer = _hex(rng, 64)
    lines = [f"#{rng.randint(8, 14)} exporting layers",
             f"#{rng.randint(8, 14)} ERROR: failed to copy: write /var/lib/docker/"
             f"overlay2/{layer[:25]}/diff/usr/lib/{rng.choice(['jvm', 'node_modules', 'x86_64'])}"
             ": no space left on device",
             f"ERROR: failed to solve: failed to compute cache key: write sha256:{layer}: "
             "no space left on device"]
    return Failure(lines, ["##[error]buildx failed with: ERROR: failed to solve: no space left "
                           "on device"], "failed to solve: no space left on device")


def _p_kotlin_flaky(rng: random.Random, repo: str) -> Failure:
    lines = ["> Task :app:testDebugUnitTest", "",
             "SyncWorkerTest > retriesOnTransientError FAILED",
             "    java.lang.AssertionError: Expected WorkInfo.State.SUCCEEDED but was RUNNING "
             f"after {rng.randint(3, 12)} attempts",
             f"        at com.acme.mobile.sync.SyncWorkerTest.retriesOnTransientError("
             f"SyncWorkerTest.kt:{rng.randint(40, 160)})", "",
             f"{rng.randint(200, 600)} tests completed, 1 failed", "",
             "FAILURE: Build failed with an exception.", "", "* What went wrong:",
             "Execution failed for task ':app:testDebugUnitTest'.",
             "> There were failing tests. See the report at: file://"
             f"{_work(repo)}/app/build/reports/tests/testDebugUnitTest/index.html"]
    return Failure(lines, [], "SyncWorkerTest > retriesOnTransientError FAILED: Expected "
                   "WorkInfo.State.SUCCEEDED but was RUNNING")


def _p_mypy(rng: random.Random, repo: str) -> Failure:
    n = rng.randint(1, 4)
    lines = []
    for _ in range(n):
        mod = rng.choice(["events", "alerts", "hooks"])
        lines.append(f"src/{repo.replace('-', '_')}/handlers/{mod}"
                     f".py:{rng.randint(10, 300)}: error: Argument 1 to \"dispatch\" has "
                     "incompatible type \"dict[str, Any]\"; expected \"Event\"  [arg-type]")
    lines.append(f"Found {n} error{'s' if n > 1 else ''} in {n} file"
                 f"{'s' if n > 1 else ''} (checked {rng.randint(80, 300)} source files)")
    return Failure(lines, [], "error: Argument 1 to \"dispatch\" has incompatible type "
                   "\"dict[str, Any]\"; expected \"Event\"  [arg-type]")


def _p_go_checksum(rng: random.Random, repo: str) -> Failure:
    v = f"v1.{rng.randint(4, 9)}.{rng.randint(0, 9)}"
    lines = [f"go: downloading github.com/acme/go-common {v}",
             f"verifying github.com/acme/go-common@{v}: checksum mismatch",
             f"\tdownloaded: h1:{_hex(rng, 32)}=",
             f"\tgo.sum:     h1:{_hex(rng, 32)}=", "",
             "SECURITY ERROR",
             "This download does NOT match an earlier download recorded in go.sum.",
             "The bits may have been replaced on the origin server, or an attacker may",
             "have intercepted the download attempt.", "",
             "For more information, see 'go help module-auth'."]
    return Failure(lines, [], "verifying github.com/acme/go-common: checksum mismatch "
                   "(SECURITY ERROR)")


RECURRING: tuple[PatternDef, ...] = (
    PatternDef("rf01-webhook-retry-attempts", "Webhook retry test expects 3 delivery attempts",
               ("pytest",), "test", _p_webhook_retry),
    PatternDef("rf02-postgres-connection-refused", "Test Postgres service not ready (connection "
               "refused)", ("pytest",), "test", _p_pg_refused, True),
    PatternDef("rf03-reconcile-timeout", "test_reconcile_large_batch times out", ("pytest",),
               "test", _p_ledger_timeout),
    PatternDef("rf04-currency-rounding", "Currency rounding unittest off by one cent",
               ("unittest",), "test", _p_money_rounding),
    PatternDef("rf05-retrypolicy-import", "acme_http RetryPolicy import error after client "
               "release", ("pytest",), "test", _p_import_retry, True),
    PatternDef("rf06-checkout-snapshot", "CheckoutForm totals snapshot mismatch", ("jest",),
               "test", _p_jest_snapshot),
    PatternDef("rf07-session-refresh-timeout", "Session refresh jest test exceeds 5000 ms",
               ("jest",), "test", _p_jest_timeout),
    PatternDef("rf08-react-peer-eresolve", "npm ERESOLVE: design-system requires react 19",
               ("jest",), "build", _p_npm_eresolve, True),
    PatternDef("rf09-docker-pull-rate-limit", "Docker Hub pull rate limit in image builds",
               ("pytest", "go"), "image", _p_docker_ratelimit, True),
    PatternDef("rf10-scheduler-lease-expiry", "TestScheduler_LeaseExpiry flakes", ("go",),
               "test", _p_go_lease),
    PatternDef("rf11-lru-data-race", "Data race in cache LRU under -race", ("go",), "test",
               _p_go_race),
    PatternDef("rf12-errcheck-rows-close", "golangci-lint errcheck on rows.Close", ("go",),
               "lint", _p_errcheck, True),
    PatternDef("rf13-split-payment-reconcile", "ReconciliationServiceTest split payments "
               "mismatch", ("maven",), "test", _p_maven_recon),
    PatternDef("rf14-gradle-daemon-oom", "Gradle daemon OOM (Java heap space)", ("gradle",),
               "test", _p_gradle_oom, True),
    PatternDef("rf15-testcontainers-postgres", "Testcontainers Postgres startup timeout",
               ("maven",), "e2e", _p_testcontainers, True),
    PatternDef("rf16-rounding-half-even", "pricing rounding_half_even panics", ("cargo",),
               "test", _p_cargo_rounding),
    PatternDef("rf17-duration-as-millis-f64", "as_millis_f64 not found after toolchain pin",
               ("cargo",), "build", _p_cargo_e0599),
    PatternDef("rf18-std-span-include", "frame_parser.cc missing <span> include", ("cmake",),
               "build", _p_gcc_span, True),
    PatternDef("rf19-decoder-fuzz-segfault", "decoder_fuzz_regression segfault", ("cmake",),
               "test", _p_ctest_segfault),
    PatternDef("rf20-terraform-state-lock", "Terraform state lock contention in plan",
               ("terraform",), "infra", _p_tf_lock, True),
    PatternDef("rf21-kind-helm-timeout", "kind/helm e2e install times out", ("maven",),
               "e2e", _p_helm_timeout),
    PatternDef("rf22-checkout-submit-timeout", "Playwright checkout submit selector timeout",
               ("jest",), "e2e", _p_playwright),
    PatternDef("rf23-protobuf-conflict", "pip ResolutionImpossible acme-sdk vs protobuf 5",
               ("pytest",), "lint", _p_pip_conflict, True),
    PatternDef("rf24-runner-disk-full", "Runner disk full during image export", ("go", "pytest"),
               "image", _p_no_space, True),
    PatternDef("rf25-syncworker-retry", "SyncWorkerTest retriesOnTransientError flakes",
               ("gradle",), "test", _p_kotlin_flaky),
)
EXTRA_RECURRING: tuple[PatternDef, ...] = (
    PatternDef("rf26-mypy-dispatch-arg-type", "mypy arg-type on dispatch(Event)", ("pytest",),
               "lint", _p_mypy),
    PatternDef("rf27-go-common-checksum", "go-common checksum mismatch", ("go",), "build",
               _p_go_checksum, True),
)

# ---------------------------------------------------------------- one-off failures

_VERBS = ("create", "update", "delete", "list", "parse", "render", "sync", "merge", "validate",
          "export", "import", "resolve", "refund", "cancel", "schedule", "encode", "migrate")
_NOUNS = ("invoice", "account", "session", "token", "webhook", "order", "customer", "report",
          "segment", "profile", "payload", "cursor", "ledger_entry", "quota", "address", "plan",
          "batch", "snapshot", "tenant", "coupon", "notification", "device", "upload", "policy")
_QUALS = ("with_empty_input", "when_expired", "for_eu_region", "with_unicode", "twice",
          "after_retry", "with_large_payload", "on_conflict", "when_disabled", "in_dry_run",
          "with_null_fields", "across_timezones", "for_legacy_plan", "without_permissions")


def _camel(s: str) -> str:
    return "".join(p.capitalize() for p in s.split("_"))


def _unique_name(rng: random.Random) -> tuple[str, str, str]:
    return rng.choice(_VERBS), rng.choice(_NOUNS), rng.choice(_QUALS)


def render_one_off(rng: random.Random, toolchain: str, kind: str, repo: str) -> Failure:
    """A failure nobody will see again: unique test, unique message."""
    v, n, q = _unique_name(rng)
    x, y = rng.randint(0, 5000), rng.randint(0, 5000)
    field = rng.choice(["status", "total", "count", "currency", "state", "version", "id"])
    if kind == "lint":
        code = rng.choice(["F401", "E501", "B008", "SIM102", "UP007"])
        path = f"src/{n}/{v}_{q}.py"
        line = f"{path}:{rng.randint(1, 500)}:{rng.randint(1, 80)}: {code} "
        line += {"F401": f"`{n}.{v}` imported but unused", "E501": "Line too long "
                 f"({rng.randint(101, 160)} > 100)", "B008": f"Do not perform function call "
                 f"`{v}_{n}` in argument defaults", "SIM102": "Use a single `if` statement "
                 "instead of nested `if` statements", "UP007": "Use `X | Y` for type annotations"}[
            code]
        if toolchain == "go":
            line = (f"internal/{n}/{v}.go:{rng.randint(1, 500)}:{rng.randint(1, 40)}: "
                    f"ineffectual assignment to {n}{_camel(q)} (ineffassign)")
        elif toolchain == "jest":
            line = (f"  {rng.randint(1, 400)}:{rng.randint(1, 60)}  error  '{n}{_camel(q)}' is "
                    f"assigned a value but never used  @typescript-eslint/no-unused-vars")
        elif toolchain in ("cargo",):
            line = f"error: unused variable: `{n}_{q}`"
        elif toolchain == "terraform":
            line = f"modules/{n}/main.tf"
        return Failure([line, "Found 1 error."], [f"##[error]{line}"], line)
    if toolchain in ("pytest", "unittest"):
        test = f"tests/test_{n}.py::test_{v}_{n}_{q}"
        msg = f"AssertionError: assert {x} == {y}"
        if rng.random() < 0.4:
            msg = f"KeyError: '{field}_{rng.randint(1, 99)}'"
        lines = [f"{'_' * 25} test_{v}_{n}_{q} {'_' * 25}", ""]
        lines += _py_tb(rng, repo, [(f"tests/test_{n}.py", f"test_{v}_{n}_{q}",
                                     f"assert result.{field} == expected.{field}")])
        lines += [f"E   {msg}"]
        lines += _pytest_summary(rng, [f"{test} - {msg}"], rng.uniform(20, 300))
        return Failure(lines, [], f"FAILED {test} - {msg}")
    if toolchain == "jest":
        title = f"{_camel(n)} › {v}s {n} {q.replace('_', ' ')}"
        lines = [f"{BOLD_RED}  ● {RESET}{ESC}[1m{title}{RESET}", "",
                 "    expect(received).toEqual(expected) // deep equality", "",
                 "    - Expected  - 1", "    + Received  + 1", "",
                 f"    -   \"{field}\": {x},", f"    +   \"{field}\": {y},", "",
                 f"      at Object.<anonymous> (src/{n}/{v}.test.ts:{rng.randint(5, 300)}:"
                 f"{rng.randint(3, 30)})",
                 f"Tests:       1 failed, {rng.randint(50, 600)} passed"]
        return Failure(lines, [], f"● {title}")
    if toolchain == "go":
        test = f"Test{_camel(v)}{_camel(n)}{_camel(q)}"
        lines = [f"=== RUN   {test}", f"    {n}_test.go:{rng.randint(10, 400)}: got {field}="
                 f"{x}, want {y}", f"--- FAIL: {test} ({_ms(rng, 0, 2)}s)", "FAIL",
                 f"FAIL\tgithub.com/acme/{repo}/internal/{n}\t{_ms(rng, 0.1, 9)}s"]
        return Failure(lines, [], f"--- FAIL: {test}")
    if toolchain in ("maven", "gradle"):
        cls = f"com.acme.{n.replace('_', '')}.{_camel(n)}{_camel(v)}Test"
        meth = f"{v}{_camel(n)}{_camel(q)}"
        exc = rng.choice([f"org.opentest4j.AssertionFailedError: expected: <{x}> but was: <{y}>",
                          f"java.lang.NullPointerException: Cannot invoke \"com.acme.{n}."
                          f"{_camel(n)}.get{_camel(field)}()\" because \"{n}\" is null",
                          f"java.lang.IllegalStateException: {n} {field} mismatch ({x} vs {y})"])
        lines = [f"[ERROR] {cls}.{meth} -- Time elapsed: {_ms(rng, 0, 5)} s <<< FAILURE!", exc]
        lines += _java_stack(rng, [f"{cls}.{meth}({_camel(n)}{_camel(v)}Test.java:"
                                   f"{rng.randint(20, 400)})",
                                   "java.base/java.lang.reflect.Method.invoke(Method.java:580)"])
        lines += ["[INFO] BUILD FAILURE"] if toolchain == "maven" else [
            "FAILURE: Build failed with an exception."]
        return Failure(lines, [], f"{cls}.{meth}: {exc}")
    if toolchain == "cargo":
        test = f"{n}::tests::{v}_{q}"
        lines = [f"test {test} ... FAILED", "", "failures:", "",
                 f"---- {test} stdout ----",
                 f"thread '{test}' panicked at src/{n}.rs:{rng.randint(10, 500)}:"
                 f"{rng.randint(5, 30)}:",
                 f"called `Result::unwrap()` on an `Err` value: {_camel(n)}Error "
                 f"{{ {field}: {x} }}",
                 "", f"test result: FAILED. {rng.randint(20, 300)} passed; 1 failed; 0 ignored"]
        return Failure(lines, [], f"thread '{test}' panicked")
    if toolchain == "cmake":
        line = (f"{_work(repo)}/src/{n}/{v}.cc:{rng.randint(5, 600)}:{rng.randint(3, 40)}: "
                f"error: no member named '{v}_{field}' in '{n}::{_camel(n)}'")
        lines = [f"[ {rng.randint(10, 90)}%] Building CXX object src/{n}/CMakeFiles/{n}.dir/"
                 f"{v}.cc.o",
                 line, f"    {n}.{v}_{field}();", "    ~~~~^", "1 error generated.",
                 "gmake: *** [Makefile:146: all] Error 2"]
        return Failure(lines, [], line.split(": ", 1)[1])
    line = (f"│ Error: Unsupported argument on modules/{n}/main.tf line {rng.randint(1, 200)}: "
            f"An argument named \"{v}_{field}\" is not expected here.")
    return Failure(["╷", line, "╵"], [], line)


def render_network_flake(rng: random.Random, toolchain: str) -> Failure:
    """A transient network failure; not a planted recurring pattern."""
    ip = f"{rng.randint(3, 199)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    choice = rng.randrange(5)
    if choice == 0 or toolchain == "jest":
        pkg = rng.choice(["@babel/core", "typescript", "esbuild", "react-dom", "webpack"])
        lines = ["npm ERR! code ETIMEDOUT", "npm ERR! errno ETIMEDOUT",
                 f"npm ERR! network request to https://registry.npmjs.org/{pkg} failed, reason: "
                 f"connect ETIMEDOUT {ip}:443",
                 "npm ERR! network This is a problem related to network connectivity."]
        return Failure(lines, [], lines[2])
    if choice == 1:
        line = f"curl: (28) Operation timed out after {rng.randint(30000, 30999)} milliseconds " \
               f"with {rng.randint(0, 90000)} out of {rng.randint(90001, 900000)} bytes received"
        return Failure([line], [], line)
    if choice == 2:
        line = ("fatal: unable to access 'https://github.com/acme/"
                f"{rng.choice(['go-common', 'proto-registry', 'ci-images'])}.git/': Could not "
                "resolve host: github.com")
        return Failure([line], [], line)
    if choice == 3:
        line = (f"dial tcp {ip}:443: i/o timeout (Client.Timeout exceeded while awaiting "
                "headers)")
        return Failure([f"go: downloading golang.org/x/net v0.{rng.randint(20, 30)}.0", line],
                       [], line)
    line = (f"Could not transfer artifact org.apache.commons:commons-lang3:pom:3."
            f"{rng.randint(10, 17)}.0 from/to central (https://repo.maven.apache.org/maven2): "
            "Connect to "
            f"repo.maven.apache.org:443 [{ip}] failed: Connect timed out")
    return Failure([f"[ERROR] {line}"], [], line)


def render_deploy_failure(rng: random.Random, service: str, env: str) -> Failure:
    """How a failed rollout looks in the deploy job."""
    rs = f"{service}-{_hex(rng, 10)}"
    choice = rng.randrange(3)
    if choice == 0:
        lines = [f"Waiting for deployment \"{service}\" rollout to finish: 1 of "
                 f"{rng.randint(3, 12)} updated replicas are available...",
                 f"error: deployment \"{service}\" exceeded its progress deadline"]
        head = f"deployment \"{service}\" exceeded its progress deadline"
    elif choice == 1:
        lines = [f"Release \"{service}\" has been upgraded. Happy Helming!",
                 f"Smoke test GET https://{service}.{env}.acme.internal/healthz -> 503 "
                 f"({rng.randint(100, 4000)}ms)",
                 f"Smoke test failed after {rng.randint(3, 10)} attempts; rolling back"]
        head = f"Smoke test failed for {service} in {env}"
    else:
        lines = [f"Error: UPGRADE FAILED: release {service} failed, and has been rolled back "
                 "due to atomic being set: timed out waiting for the condition",
                 f"pod {rs}-{_hex(rng, 5)} CrashLoopBackOff"]
        head = f"UPGRADE FAILED: release {service} failed"
    return Failure(lines, [], head)
