#!/usr/bin/env bash
# compose/ cannot run here (no Docker), so check what can go wrong before it
# runs: the YAML parses; kafka, topics, burnrate and gen are there and start
# in order; images are pinned; the build context, Dockerfile and every
# mounted file exist; the mounted burnrate config passes `burnrate
# check-config` and points at the kafka service's internal listener; the
# topics service creates every topic the config and the generator use; the
# generator's flags are in its --help; every Debian package the Dockerfile
# installs is in the archive and the runtime stage has every library the
# built burnrate needs.
set -euo pipefail
cd "$(dirname "$0")"
source ./kafka_util.sh

: "${BR_BIN:?BR_BIN must point at the build directory}"
: "${BR_SRC:?BR_SRC must point at the source tree}"
command -v apt-cache >/dev/null || br_die "apt-cache missing"
/usr/bin/python3 -c 'import yaml' 2>/dev/null || br_die "python3-yaml missing (scripts/deps installs it)"
br_tmp_init

/usr/bin/python3 - "$BR_SRC" "$BR_BIN" "$BR_TMP" <<'EOF'
import os, re, shlex, subprocess, sys
import yaml

src, bin_dir, tmp = sys.argv[1:4]
cdir = os.path.join(src, "compose")
errors = []


def fail(msg):
    errors.append(msg)


doc = yaml.safe_load(open(os.path.join(cdir, "docker-compose.yml")))
services = doc.get("services") or {}
for name in ("kafka", "topics", "burnrate", "gen"):
    if name not in services:
        fail("no service %s" % name)
if errors:
    sys.exit("\n".join(errors))
kafka, topics, br, gen = (services[n] for n in ("kafka", "topics", "burnrate", "gen"))

# Images: pinned to a version, never latest; services that build name it.
for name, svc in services.items():
    image = svc.get("image")
    if not image:
        fail("service %s has no image" % name)
        continue
    if not re.fullmatch(r"[a-z0-9./-]+:\d+(\.\d+)+", image):
        fail("service %s: image %s is not pinned to a version" % (name, image))
if not re.fullmatch(r"apache/kafka:\d+\.\d+\.\d+", kafka["image"]):
    fail("kafka: not the official apache/kafka image at a release: %s" % kafka["image"])
if topics["image"] != kafka["image"]:
    fail("topics should use the kafka image (%s)" % kafka["image"])

# Build: context and Dockerfile exist; what the Dockerfile COPYs exists;
# its base images are pinned; it runs as a non-root user.
dockerfiles = set()
for name in ("burnrate", "gen"):
    b = services[name].get("build")
    if not isinstance(b, dict):
        fail("%s: no build section" % name)
        continue
    ctx = os.path.normpath(os.path.join(cdir, b["context"]))
    df = os.path.join(ctx, b.get("dockerfile", "Dockerfile"))
    if not os.path.isdir(ctx):
        fail("%s: build context %s missing" % (name, ctx))
    if not os.path.isfile(df):
        fail("%s: Dockerfile %s missing" % (name, df))
    dockerfiles.add((ctx, df))
if gen.get("image") != br.get("image") or gen.get("build") != br.get("build"):
    fail("gen must run burnrate's image")
ctx, df = sorted(dockerfiles)[0]
text = open(df).read().replace("\\\n", " ")
stages = re.split(r"(?m)^FROM ", text)[1:]
if len(stages) < 2:
    fail("Dockerfile: expected a build and a runtime stage")
for st in stages:
    base = st.split()[0]
    if not re.fullmatch(r"debian:bookworm-slim", base):
        fail("Dockerfile: base image %s is not debian:bookworm-slim" % base)
for m in re.finditer(r"(?m)^COPY (?!--from)(.*)$", text):
    for path in m.group(1).split()[:-1]:
        if not os.path.exists(os.path.join(ctx, path)):
            fail("Dockerfile COPYs %s, missing from the context" % path)
users = re.findall(r"(?m)^USER (\S+)", stages[-1])
if not users or users[-1] in ("root", "0"):
    fail("Dockerfile: the runtime stage must end with a non-root USER")
ign = df + ".dockerignore"
if os.path.exists(ign):
    for line in open(ign):
        line = line.strip()
        if line.startswith("!") and not os.path.exists(os.path.join(ctx, line[1:])):
            fail("%s keeps %s, which does not exist" % (ign, line[1:]))

# Debian packages: each is in the archive.
pkgs = {}
for i, st in enumerate(stages):
    for m in re.finditer(r"apt-get install ([^&\n]*)", st):
        for w in m.group(1).split():
            if not w.startswith("-"):
                pkgs.setdefault(w, i)
if not pkgs:
    fail("Dockerfile installs no Debian package")
for p in sorted(pkgs):
    r = subprocess.run(["apt-cache", "show", p], capture_output=True, text=True)
    if r.returncode != 0 or not r.stdout.strip():
        fail("Dockerfile installs %s, which is not in the Debian archive" % p)
# Every shared library the built burnrate and burnrate-gen load comes from
# a package of the runtime stage (or libc, which the base image has).
runtime = {p for p, i in pkgs.items() if i == len(stages) - 1}
for prog in ("burnrate", "burnrate-gen"):
    out = subprocess.run(["ldd", os.path.join(bin_dir, prog)], capture_output=True,
                         text=True, check=True).stdout
    needed = subprocess.run(["readelf", "-d", os.path.join(bin_dir, prog)],
                            capture_output=True, text=True, check=True).stdout
    for m in re.finditer(r"^\s*(\S+) => (/\S+)", out, re.M):
        lib, path = m.groups()
        if "[%s]" % lib not in needed:
            continue  # pulled in by another library: its package depends on it
        r = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
        if r.returncode != 0:
            r = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        owner = r.stdout.split(":")[0] if r.returncode == 0 else None
        if owner in ("libc6", "libgcc-s1") or "asan" in lib or "ubsan" in lib:
            continue
        if owner not in runtime:
            fail("%s needs %s (package %s), which the runtime stage does not install"
                 % (prog, lib, owner))

# Start order: topics after a healthy kafka; burnrate and gen after topics.
if "healthcheck" not in kafka:
    fail("kafka has no healthcheck")
def cond(svc, dep):
    d = svc.get("depends_on") or {}
    return d.get(dep, {}).get("condition") if isinstance(d, dict) else None
if cond(topics, "kafka") != "service_healthy":
    fail("topics must wait for kafka: service_healthy")
for name in ("burnrate", "gen"):
    if cond(services[name], "topics") != "service_completed_successfully":
        fail("%s must wait for topics: service_completed_successfully" % name)

# Kafka listeners: one advertised to the other containers as kafka:PORT,
# one to the host as localhost:PORT and published.
env = kafka.get("environment") or {}
adv = dict(l.split("://", 1) for l in str(env.get("KAFKA_ADVERTISED_LISTENERS", "")).split(","))
internal = [a for a in adv.values() if a.startswith("kafka:")]
host = [a for a in adv.values() if a.startswith("localhost:")]
if not internal or not host:
    fail("kafka must advertise kafka:PORT and localhost:PORT, advertises %s" % adv)
elif not any(str(p).split(":")[-1] == host[0].split(":")[1] for p in kafka.get("ports", [])):
    fail("kafka does not publish the host listener's port %s" % host[0])
if "broker" not in str(env.get("KAFKA_PROCESS_ROLES")) or "controller" not in str(env.get("KAFKA_PROCESS_ROLES")):
    fail("kafka must be one KRaft node (broker,controller)")

# Mounts: every bind source exists; named volumes are declared.
mounts = {}
for name, svc in services.items():
    for v in svc.get("volumes") or []:
        source, target = v.split(":")[:2]
        if source.startswith(".") or source.startswith("/"):
            path = os.path.normpath(os.path.join(cdir, source))
            if not os.path.exists(path):
                fail("%s mounts %s, which does not exist" % (name, source))
            mounts[(name, target)] = path
        elif source not in (doc.get("volumes") or {}):
            fail("%s uses volume %s, not declared" % (name, source))
        else:
            mounts[(name, target)] = source

# burnrate's command: its --config is a mounted file that passes
# check-config, names kafka's internal listener and keeps its state on a
# volume.
cmd = br.get("command") or []
if cmd[:1] != ["run"] or "--config" not in cmd:
    fail("burnrate must `run --config FILE`: %s" % cmd)
else:
    conf_target = cmd[cmd.index("--config") + 1]
    conf = mounts.get(("burnrate", conf_target))
    if not conf or not os.path.isfile(str(conf)):
        fail("burnrate's config %s is not a mounted file" % conf_target)
    else:
        c = yaml.safe_load(open(conf))
        # The price table is the one the image installs (cmake --install with
        # prefix /usr/local puts scripts/data's copy in share/burnrate): check
        # the config against that same file from the repository.
        installed = "/usr/local/share/burnrate/litellm_model_prices.json"
        pfile = (c.get("prices") or {}).get("file")
        if pfile is not None and pfile != installed:
            fail("prices.file %s is not the price table the image installs (%s)" % (pfile, installed))
        conf_text = open(conf).read().replace(
            installed, os.path.join(src, "scripts/data/litellm_model_prices.json"))
        local = os.path.join(tmp, "compose-burnrate.yaml")
        open(local, "w").write(conf_text)
        r = subprocess.run([os.path.join(bin_dir, "burnrate"), "check-config", local],
                           capture_output=True, text=True)
        if r.returncode != 0:
            fail("check-config %s: %s" % (conf, r.stderr.strip()))
        brokers = c["kafka"]["brokers"]
        if brokers not in internal:
            fail("the config's kafka.brokers %s is not kafka's internal listener %s" % (brokers, internal))
        if ("burnrate", c["state"]["dir"]) not in mounts or mounts[("burnrate", c["state"]["dir"])] not in (doc.get("volumes") or {}):
            fail("state.dir %s is not on a named volume" % c["state"]["dir"])
        if not re.search(r"(?m)^VOLUME %s$" % re.escape(c["state"]["dir"]), stages[-1]):
            fail("the Dockerfile does not declare VOLUME %s" % c["state"]["dir"])
        want_topics = set()
        for i in c["inputs"]:
            want_topics.update(i.get("topics", []) + ([i["topic"]] if "topic" in i else []))
        want_topics.update([c["kafka"].get("alerts_topic", "burnrate.alerts"),
                            c["kafka"].get("dead_letter_topic", "burnrate.dlq")])

# gen: the entrypoint is where cmake --install puts burnrate-gen, its flags
# exist, it writes to kafka's internal listener, to the config's topics.
ep = gen.get("entrypoint") or []
gcmd = gen.get("command") or []
if ep != ["/usr/local/libexec/burnrate/burnrate-gen"]:
    fail("gen's entrypoint is not the installed burnrate-gen: %s" % ep)
if "CMAKE_INSTALL_PREFIX=/usr/local" not in text:
    fail("the Dockerfile does not install to /usr/local")
help_text = subprocess.run([os.path.join(bin_dir, "burnrate-gen"), "--help"],
                           capture_output=True, text=True).stdout
flags = [w for w in gcmd if w.startswith("--")]
for f in flags:
    if not re.search(r"(?m)^\s+%s\b" % re.escape(f), help_text):
        fail("gen passes %s, which burnrate-gen --help does not list" % f)
if "--brokers" not in gcmd or gcmd[gcmd.index("--brokers") + 1] not in internal:
    fail("gen must produce to kafka's internal listener %s" % internal)
gen_topics = set(re.findall(r"\(default ([a-z.]+)\)", help_text))
# the topics service's script creates every topic used
script = " ".join(topics.get("command") or [])
created = set()
for m in re.finditer(r"for t in ([^;]+);", script):
    created.update(m.group(1).split())
created.update(re.findall(r"create ([a-z][a-z.]+) ", script))
missing = (want_topics | {t for t in gen_topics if "." in t}) - created
if missing:
    fail("the topics service does not create %s" % sorted(missing))
if "--if-not-exists" not in script:
    fail("the topics service must be safe to run again (--if-not-exists)")

if errors:
    sys.exit("\n".join("FAIL: " + e for e in errors))
print("it_compose: OK (%d services, %d Debian packages, topics %s)"
      % (len(services), len(pkgs), " ".join(sorted(created))))
EOF
