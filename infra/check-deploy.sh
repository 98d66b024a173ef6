#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Checks the deployment files as far as a machine without a Docker engine can (./test.sh runs this first):
#   1. docker-compose.yml resolves (`docker-compose config`) with a generated .env, refuses to without the required
#      variables, and builds from / mounts files that exist.
#   2. The RabbitMQ definitions render (infra/rabbitmq/start.sh) to valid JSON; the policy takes the consumer queues
#      and nothing else; the Kubernetes topology and cluster say the same as the compose broker.
#   3. Every YAML file under infra/k8s parses, and the manifests hang together (selectors, Secrets, probes, ...).
#      Every service with a Dockerfile is in compose, in Kubernetes (Deployment, Secret, image) and in prometheus.yml,
#      on the ports of its appsettings.json; an outbound sender keeps its secure defaults everywhere.
#   4. Each service's Dockerfile copies every project it needs, and its `dotnet publish` succeeds here with the
#      service's own appsettings.json in the output.
#      (Measured on 2 busy cores with a warm build: about 20 s; ./test.sh's build afterwards has nothing to redo.)
# Images are not built or run. Exits non-zero on the first failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck disable=SC2034 # read by log() in common.sh
LOG_TAG=check-deploy
# shellcheck source=local/common.sh
source infra/local/common.sh

started=$SECONDS
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-deploy.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

ok() { log "ok: $*"; }
random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# --- 1. docker-compose.yml ---------------------------------------------------------------------------------
if ! command -v docker-compose >/dev/null 2>&1; then
  # Without recommends: docker.io would come along, and a daemon started on a CI machine would change how
  # ./test.sh runs (Testcontainers).
  apt_install --no-install-recommends docker-compose
fi

# Throw-away values of the right shape; nothing real.
cat >"$tmp/compose.env" <<EOF
MSSQL_SA_PASSWORD=Ck-$(random_hex 12)-A1
MSSQL_PID=Developer
RABBITMQ_PIPELINE_PASSWORD=$(random_hex 16)
RABBITMQ_ADMIN_PASSWORD=$(random_hex 16)
E2B_WEBHOOK_SECRET=$(random_hex 16)
LIVEKIT_API_KEY=APIcheck
LIVEKIT_API_SECRET=$(random_hex 16)
NEWAPI_WEBHOOK_SECRET=$(random_hex 16)
ADMIN_API_KEY=$(random_hex 16)
API_READ_KEY=$(random_hex 16)
EOF
: >"$tmp/empty.env"
# A clean environment: variables of the caller would override the env file.
compose() { env -i PATH="$PATH" HOME="$HOME" docker-compose --project-directory "$root" -f "$root/docker-compose.yml" "$@"; }

compose --env-file "$tmp/compose.env" config -q || die "docker-compose config rejected docker-compose.yml (above)"
compose --env-file "$tmp/compose.env" config >"$tmp/compose.yaml"
ok "docker-compose config accepts docker-compose.yml ($(docker-compose version --short 2>/dev/null || echo '?'))"
if compose --env-file "$tmp/empty.env" config -q 2>"$tmp/empty.err"; then
  die "docker-compose config accepted docker-compose.yml without MSSQL_SA_PASSWORD and the RabbitMQ passwords"
fi
grep -Eq 'MSSQL_SA_PASSWORD|RABBITMQ_(PIPELINE|ADMIN)_PASSWORD' "$tmp/empty.err" ||
  die "docker-compose config failed without a .env, but not for a missing password: $(cat "$tmp/empty.err")"
ok "docker-compose config refuses to run without the required passwords"

# --- 2. the RabbitMQ definitions -------------------------------------------------------------------------
PIPELINE_DEFINITIONS_TEMPLATE=infra/rabbitmq/definitions.json PIPELINE_DEFINITIONS_OUT="$tmp/definitions.json" \
  RABBITMQ_PIPELINE_PASSWORD=$(random_hex 16) RABBITMQ_ADMIN_PASSWORD=$(random_hex 16) \
  sh infra/rabbitmq/start.sh --render-only
if RABBITMQ_PIPELINE_PASSWORD='not/url"safe' RABBITMQ_ADMIN_PASSWORD=x PIPELINE_DEFINITIONS_OUT="$tmp/bad.json" \
  PIPELINE_DEFINITIONS_TEMPLATE=infra/rabbitmq/definitions.json sh infra/rabbitmq/start.sh --render-only 2>/dev/null; then
  die "infra/rabbitmq/start.sh accepted a password that is not URL-safe"
fi
ok "infra/rabbitmq/start.sh renders the definitions and refuses passwords that are not URL-safe"

# --- 2-4 (static part): one Python with PyYAML (Debian's docker-compose brings python3-yaml) ----------------
python=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then
    python=$candidate
    break
  fi
done
[[ -n $python ]] || die "no python3 with PyYAML (apt-get install python3-yaml)"

"$python" - "$tmp/compose.yaml" "$tmp/definitions.json" "$tmp/publish.tsv" <<'PY'
import glob, json, os, re, sys
import xml.etree.ElementTree as ET
import yaml

compose_file, definitions_file, publish_out = sys.argv[1:4]
failures = []

def check(condition, message):
    if not condition:
        failures.append(message)
    return condition

def ok(message):
    print(f"[check-deploy] ok: {message}", file=sys.stderr)

# --- compose: what `docker-compose config` resolved ---
compose = yaml.safe_load(open(compose_file))
services = compose["services"]
for name in ("rabbitmq", "sqlserver"):
    check(name in services and "healthcheck" in services[name], f"compose: {name} needs a healthcheck")
check(services.get("rabbitmq", {}).get("image", "").startswith("rabbitmq:3.13-management"), "compose: rabbitmq must be rabbitmq:3.13-management")
check(services.get("sqlserver", {}).get("image") == "mcr.microsoft.com/mssql/server:2022-latest", "compose: sqlserver must be mssql/server:2022-latest")
def port_mapping(p):
    """host_ip (None when on every interface), published and target of a long-form dict or a
    "[ip:]published:target[/proto]" string."""
    if isinstance(p, dict):
        return {"host_ip": p.get("host_ip"), "published": str(p.get("published")), "target": str(p.get("target"))}
    parts = str(p).split("/")[0].split(":")
    return {"host_ip": parts[0] if len(parts) == 3 else None, "published": parts[-2] if len(parts) > 1 else None,
            "target": parts[-1]}

apps = {n: s for n, s in services.items() if "build" in s}
dockerfiles = []
dockerfiles_by_app = {}
for name, s in sorted(apps.items()):
    dockerfile = os.path.relpath(os.path.join(s["build"]["context"], s["build"].get("dockerfile", "Dockerfile")))
    dockerfiles_by_app[name] = dockerfile
    if check(os.path.isfile(dockerfile), f"compose: {name} builds from {dockerfile}, which does not exist"):
        dockerfiles.append(dockerfile)
    for dep in ("sqlserver", "rabbitmq"):
        check(s.get("depends_on", {}).get(dep, {}).get("condition") == "service_healthy",
              f"compose: {name} must wait for {dep} (condition: service_healthy)")
    env = s.get("environment", {})
    check(env.get("Database__Provider") == "SqlServer", f"compose: {name} must use Database__Provider=SqlServer")
    check(any(k.startswith("ConnectionStrings__") and "Server=sqlserver" in (v or "") for k, v in env.items()),
          f"compose: {name} needs a ConnectionStrings__<Name> pointing at sqlserver")
    check(re.fullmatch(r"amqp://pipeline:[^@]+@rabbitmq:5672/pipeline", env.get("Bus__RabbitMq", "")) is not None,
          f"compose: {name} needs Bus__RabbitMq=amqp://pipeline:...@rabbitmq:5672/pipeline")
    ports = [port_mapping(p) for p in s.get("ports", [])]
    check(all(p["target"] in ("8080", "8081") for p in ports), f"compose: {name} listens on 8080 (public) and 8081 (management) inside")
    check(all(p["host_ip"] == "127.0.0.1" for p in ports if p["target"] == "8081"),
          f"compose: {name} may publish its management port (8081: /metrics, /health/ready) on 127.0.0.1 only")
    if name != "ingress":
        check(bool(env.get("Api__ReadKeys__0")), f"compose: {name} needs Api__ReadKeys__0 from API_READ_KEY (its read API's bearer key)")
check(any((p.get("published") if isinstance(p, dict) else None) in (5081, "5081") for p in apps.get("ingress", {}).get("ports", [])),
      "compose: ingress must be published on 5081")
for name, s in services.items():
    for v in s.get("volumes", []):
        source = v.get("source") if isinstance(v, dict) else v.split(":")[0]
        if source.startswith("/"):
            check(os.path.exists(source), f"compose: {name} mounts {source}, which does not exist")
ok(f"docker-compose.yml: {len(apps)} services built from {', '.join(dockerfiles)}; mounts exist; all wait for healthy SQL Server and RabbitMQ")

# --- RabbitMQ definitions and their Kubernetes twin ---
definitions = json.load(open(definitions_file))
check("${" not in open(definitions_file).read(), "definitions: a placeholder was left unrendered")
users = {u["name"] for u in definitions["users"]}
check(all(u.get("password") for u in definitions["users"]), "definitions: every user needs a password")
check({v["name"] for v in definitions["vhosts"]} == {"pipeline"}, "definitions: the vhost is pipeline")
check(all(p["user"] in users and p["vhost"] == "pipeline" for p in definitions["permissions"]), "definitions: permissions for unknown users")
policies = {p["name"]: p for p in definitions["policies"]}
policy = policies.get("consumer-queues")
if check(policy is not None, "definitions: policy consumer-queues is missing"):
    pattern = re.compile(policy["pattern"])
    for queue in ("sandboxes-lifecycle", "rooms-livekit", "credits-usage", "deliveries-events"):
        check(pattern.search(queue) is not None, f"definitions: policy consumer-queues must apply to {queue}")
    # pipeline-ops browses _error queues by requeueing (each time a delivery); the poison queue must not loop.
    for queue in ("sandboxes-lifecycle_error", "rooms-livekit_skipped", "deliveries-events_error", "host_PipelineIngress_bus_abc123",
                  "amq.gen-abc", "pipeline_poison"):
        check(pattern.search(queue) is None, f"definitions: policy consumer-queues must not apply to {queue}")
    dlx = policy["definition"].get("dead-letter-exchange")
    check(any(e["name"] == dlx for e in definitions["exchanges"]), "definitions: the dead-letter exchange is not declared")
    check(any(b["source"] == dlx for b in definitions["bindings"]), "definitions: nothing is bound to the dead-letter exchange")
    if policy["definition"].get("dead-letter-strategy") == "at-least-once":
        check(policy["definition"].get("overflow") == "reject-publish", "definitions: at-least-once dead-lettering needs overflow reject-publish")

k8s_docs = {}
k8s_files = sorted(glob.glob("infra/k8s/**/*.y*ml", recursive=True))
for path in k8s_files:
    try:
        k8s_docs[path] = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except yaml.YAMLError as e:
        failures.append(f"{path}: not valid YAML: {e}")
objects = [(path, d) for path, docs in k8s_docs.items() for d in docs if d.get("kind") != "Kustomization"]
by_kind = {}
for path, d in objects:
    by_kind.setdefault(d.get("kind"), []).append(d)

k8s_policy = next((d["spec"] for d in by_kind.get("Policy", []) if d["spec"]["name"] == "consumer-queues"), None)
if check(k8s_policy is not None, "k8s: Policy consumer-queues is missing") and policy is not None:
    check(k8s_policy["pattern"] == policy["pattern"] and k8s_policy["definition"] == policy["definition"]
          and k8s_policy["applyTo"] == policy["apply-to"], "k8s: Policy consumer-queues differs from infra/rabbitmq/definitions.json")
conf = [l.strip() for l in open("infra/rabbitmq/rabbitmq.conf") if re.match(r"\s*(vm_memory_high_watermark|disk_free_limit|raft\.wal_max_size_bytes)", l)]
plugins = set(re.findall(r"\w+", open("infra/rabbitmq/enabled_plugins").read()))
for cluster in by_kind.get("RabbitmqCluster", []):
    spec = cluster["spec"]
    check(spec.get("replicas") == 3, "k8s: the RabbitmqCluster has 3 replicas")
    extra = spec.get("rabbitmq", {}).get("additionalConfig", "")
    check(all(l in extra for l in conf), "k8s: RabbitmqCluster additionalConfig must set the thresholds and WAL size of rabbitmq.conf")
    check(set(spec.get("rabbitmq", {}).get("additionalPlugins", [])) == plugins, "k8s: RabbitmqCluster plugins differ from enabled_plugins")
check(len(by_kind.get("RabbitmqCluster", [])) == 1, "k8s: one RabbitmqCluster expected")
ok(f"infra/rabbitmq: definitions valid ({len(users)} users, vhost pipeline, policy takes consumer queues only); k8s topology and cluster agree")

# --- Kubernetes manifests ---
check(len(k8s_files) > 0, "k8s: no manifests under infra/k8s")
namespaces = {d["metadata"]["name"] for d in by_kind.get("Namespace", [])}
for path, d in objects:
    meta = d.get("metadata") or {}
    if not check(d.get("apiVersion") and d.get("kind") and meta.get("name"), f"{path}: a document lacks apiVersion, kind or metadata.name"):
        continue
    if d["kind"] != "Namespace":
        check(meta.get("namespace") in namespaces, f"{path}: {d['kind']}/{meta['name']} is not in a namespace defined here")
for path, docs in k8s_docs.items():
    for d in docs:
        if d.get("kind") == "Kustomization":
            listed = {os.path.normpath(os.path.join(os.path.dirname(path), r)) for r in d.get("resources", [])}
            present = {os.path.normpath(p) for p in k8s_files if p != path}
            check(listed == present, f"{path}: resources {sorted(listed)} differ from the files {sorted(present)}")
configs = {d["metadata"]["name"] for d in by_kind.get("ConfigMap", [])}
secrets = {d["metadata"]["name"] for d in by_kind.get("Secret", [])}
deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
pod_labels = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in deployments.items()}
# The Cluster Operator labels a cluster's pods with app.kubernetes.io/name: <cluster name>.
for cluster in by_kind.get("RabbitmqCluster", []):
    pod_labels[cluster["metadata"]["name"]] = {"app.kubernetes.io/name": cluster["metadata"]["name"]}

def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())

for name, d in deployments.items():
    spec = d["spec"]
    check(selects(spec["selector"]["matchLabels"], pod_labels[name]), f"k8s: Deployment {name}: selector does not match its pods")
    for c in spec["template"]["spec"]["containers"]:
        check(c.get("readinessProbe", {}).get("httpGet", {}) == {"path": "/health/ready", "port": "management"},
              f"k8s: {name}: readiness probe must be /health/ready on the management port")
        check({"name": "management", "containerPort": 8081} in c.get("ports", []), f"k8s: {name}: needs port management (8081)")
        check(spec["template"]["metadata"].get("annotations", {}).get("prometheus.io/port") == "8081",
              f"k8s: {name}: Prometheus must scrape the management port (8081)")
        check(c.get("livenessProbe", {}).get("httpGet", {}).get("path") == "/health/live", f"k8s: {name}: liveness probe must be /health/live")
        check(all(k in c.get("resources", {}).get(w, {}) for w in ("requests", "limits") for k in ("cpu", "memory")),
              f"k8s: {name}: cpu and memory requests and limits")
        for ref in c.get("envFrom", []):
            if "configMapRef" in ref:
                check(ref["configMapRef"]["name"] in configs, f"k8s: {name} uses ConfigMap {ref['configMapRef']['name']}, not defined here")
            if "secretRef" in ref:
                check(ref["secretRef"]["name"] in secrets, f"k8s: {name} uses Secret {ref['secretRef']['name']}, not defined here")
    for volume in spec["template"]["spec"].get("volumes", []):
        if "secret" in volume:
            check(volume["secret"]["secretName"] in secrets, f"k8s: {name} mounts Secret {volume['secret']['secretName']}, not defined here")
    check(spec.get("replicas") == (3 if name == "ingress" else 2), f"k8s: Deployment {name}: replicas")
for d in by_kind.get("Service", []):
    check(any(selects(d["spec"]["selector"], labels) for labels in pod_labels.values()), f"k8s: Service {d['metadata']['name']} selects no pods")
    if d["metadata"]["name"] in deployments:
        check(all(p.get("targetPort") == "http" for p in d["spec"]["ports"]),
              f"k8s: Service {d['metadata']['name']} must expose only the public port (http), never management")
for d in by_kind.get("PodDisruptionBudget", []):
    check(any(selects(d["spec"]["selector"]["matchLabels"], labels) for labels in pod_labels.values()),
          f"k8s: PodDisruptionBudget {d['metadata']['name']} selects no pods")
for d in by_kind.get("HorizontalPodAutoscaler", []):
    check(d["spec"]["scaleTargetRef"]["name"] in deployments, f"k8s: HPA {d['metadata']['name']} scales an unknown Deployment")
hpa = {d["spec"]["scaleTargetRef"]["name"]: d for d in by_kind.get("HorizontalPodAutoscaler", [])}
check("ingress" in hpa and any(m.get("resource", {}).get("target", {}).get("averageUtilization") == 70 for m in hpa["ingress"]["spec"]["metrics"]),
      "k8s: Ingress needs an HPA at 70% CPU")
check({n for n in deployments} <= {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for d in by_kind.get("PodDisruptionBudget", [])},
      "k8s: every Deployment needs a PodDisruptionBudget")
ok(f"infra/k8s: {len(k8s_files)} YAML files parse; {len(objects)} objects in namespace {', '.join(sorted(namespaces))}; "
   "selectors, Secrets, ConfigMaps, probes, resources, HPA and PDBs consistent")

# --- every service everywhere: a Dockerfile in the tree is a service; compose, k8s and Prometheus must all know it ---
def service_dockerfiles():
    found = []
    for directory, subdirs, files in os.walk("."):
        subdirs[:] = [d for d in subdirs if not d.startswith(".") and d not in ("bin", "obj", "node_modules", "TestResults")]
        found += [os.path.relpath(os.path.join(directory, f)) for f in files if f == "Dockerfile"]
    return sorted(found)

compose_by_dockerfile = {dockerfiles_by_app[n]: n for n in apps}
kustomize_images = {i["name"] for docs in k8s_docs.values() for d in docs if d.get("kind") == "Kustomization" for i in d.get("images", [])}
prometheus = yaml.safe_load(open("infra/prometheus/prometheus.yml"))
scrape_targets = {j["job_name"]: [t for c in j.get("static_configs", []) for t in c.get("targets", [])] for j in prometheus["scrape_configs"]}
all_dockerfiles = service_dockerfiles()
for dockerfile in all_dockerfiles:
    name = compose_by_dockerfile.get(dockerfile)
    if not check(name is not None, f"compose: no service builds {dockerfile}"):
        continue
    # The ports a developer knows from running it locally (appsettings.json) are the ones compose publishes.
    settings = json.load(open(os.path.join(os.path.dirname(dockerfile), "appsettings.json")))
    public_port = re.search(r":(\d+)/?$", settings.get("Urls", ""))
    management_port = str(settings.get("Management", {}).get("Port"))
    if not check(public_port and management_port.isdigit(), f"{dockerfile}: the appsettings.json beside it needs Urls with a port and Management:Port"):
        continue
    public_port = public_port.group(1)
    published = {p["target"]: p["published"] for p in (port_mapping(p) for p in apps[name].get("ports", []))}
    check(published.get("8080") == public_port, f"compose: {name} must publish its public port 8080 on {public_port} (Urls in its appsettings.json)")
    check(published.get("8081") in (None, management_port), f"compose: {name} must publish its management port 8081 on {management_port} or not at all")
    check(f"127.0.0.1:{management_port}" in scrape_targets.get(f"pipeline-{name}", []),
          f"infra/prometheus/prometheus.yml: job pipeline-{name} must scrape 127.0.0.1:{management_port}")
    if not check(name in deployments, f"k8s: no Deployment {name} (compose has service {name})"):
        continue
    image = f"registry.example.com/pipeline/{name}"
    pod = deployments[name]["spec"]["template"]["spec"]
    check(all(c["image"].split(":")[0] == image for c in pod["containers"]), f"k8s: Deployment {name} must run {image}")
    check(image in kustomize_images, f"infra/k8s/kustomization.yaml: images must list {image}")
    check(any(v.get("secret", {}).get("secretName") == f"pipeline-{name}" for v in pod.get("volumes", [])),
          f"k8s: Deployment {name} must mount its Secret pipeline-{name}")
check(set(deployments) == set(apps), f"k8s: Deployments {sorted(deployments)} differ from the compose services {sorted(apps)}")

# An outbound sender is told it may reach private networks or plain http:// only on purpose, never by the deployment.
for where, env in ([(f"compose: {n}", s.get("environment", {})) for n, s in apps.items()]
                   + [(f"k8s: Deployment {n}", {e["name"]: e.get("value") for c in d["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])})
                      for n, d in deployments.items()]
                   + [(f"k8s: {d['kind']} {d['metadata']['name']}", {**(d.get("data") or {}), **(d.get("stringData") or {})})
                      for d in by_kind.get("ConfigMap", []) + by_kind.get("Secret", [])]):
    for key in ("Deliveries__AllowPrivateNetworks", "Deliveries__AllowHttp"):
        check(str(env.get(key, "false")).lower() == "false", f"{where}: {key} must stay false (the secure default)")
ok(f"{len(all_dockerfiles)} services ({', '.join(sorted(compose_by_dockerfile.values()))}) in compose, k8s and prometheus.yml on the ports "
   "of their appsettings.json; outbound webhooks to public HTTPS receivers only")

# --- Dockerfiles: every project the service needs is copied; publish as the Dockerfile does ---
def project_closure(csproj, seen=None):
    seen = seen if seen is not None else []
    csproj = os.path.normpath(csproj)
    if csproj in seen:
        return seen
    seen.append(csproj)
    for ref in ET.parse(csproj).getroot().iter("ProjectReference"):
        include = ref.get("Include").replace("\\", "/")
        project_closure(os.path.join(os.path.dirname(csproj), include), seen)
    return seen

ignore = open(".dockerignore").read().split()
check("**/bin/" in ignore and "**/obj/" in ignore and ".env" in ignore, ".dockerignore must keep bin/, obj/ and .env out of the context")
rows = []
for dockerfile in dockerfiles:
    text = open(dockerfile).read()
    directory = os.path.dirname(dockerfile)
    projects = glob.glob(os.path.join(directory, "*.csproj"))
    if not check(len(projects) == 1, f"{dockerfile}: expected one .csproj beside it"):
        continue
    csproj = projects[0]
    for needed in ("mcr.microsoft.com/dotnet/sdk:10.0", "mcr.microsoft.com/dotnet/aspnet:10.0", "USER $APP_UID", "EXPOSE 8080 8081",
                   "Management__Port=8081", "http://127.0.0.1:8081/health/ready"):
        check(needed in text, f"{dockerfile}: missing {needed}")
    props = " ".join(sorted(os.path.basename(p) for p in glob.glob("Directory.*.props") + ["global.json"]))
    copied_first = re.search(r"^COPY ((?:\S+ )+)\./$", text, re.M)
    check(copied_first and set(copied_first.group(1).split()) == set(props.split()), f"{dockerfile}: must first copy {props}")
    for project in project_closure(csproj):
        pdir = os.path.dirname(project)
        check(f"COPY {project} {pdir}/" in text, f"{dockerfile}: does not copy {project} before the restore")
        check(f"COPY {pdir}/ {pdir}/" in text, f"{dockerfile}: does not copy the sources of {pdir}")
    publish = re.search(r"RUN dotnet publish (\S+) -c Release -o /app(.*)$", text, re.M)
    if check(publish and publish.group(1) == csproj, f"{dockerfile}: needs `dotnet publish {csproj} -c Release -o /app`"):
        extra = [a for a in publish.group(2).split() if a != "--no-restore"]
        root = ET.parse(csproj).getroot()
        assembly = next((e.text for e in root.iter("AssemblyName")), None) or os.path.splitext(os.path.basename(csproj))[0]
        check(f'ENTRYPOINT ["dotnet", "{assembly}.dll"]' in text, f"{dockerfile}: ENTRYPOINT must run {assembly}.dll")
        rows.append("\t".join([dockerfile, csproj] + extra))
open(publish_out, "w").write("\n".join(rows) + "\n")
ok(f"Dockerfiles copy every referenced project and run as $APP_UID on 8080 (management 8081): {', '.join(dockerfiles)}")

if failures:
    for f in failures:
        print(f"[check-deploy] FAILED: {f}", file=sys.stderr)
    sys.exit(1)
PY

# --- 4. dotnet publish, as each Dockerfile runs it (reuses this tree's build cache) -------------------------
while IFS=$'\t' read -r dockerfile csproj extra; do
  [[ -n $dockerfile ]] || continue
  step=$SECONDS
  # shellcheck disable=SC2086 # the Dockerfile's extra arguments, one word each
  out="$tmp/publish/$(dirname "$dockerfile")"
  if ! dotnet publish "$csproj" -c Release -o "$out" $extra -nologo -v quiet >"$tmp/publish.log" 2>&1; then
    cat "$tmp/publish.log" >&2
    die "dotnet publish $csproj (as $dockerfile does) failed"
  fi
  # The image runs from this folder: it must hold the service's own settings, not a referenced project's.
  cmp -s "$(dirname "$csproj")/appsettings.json" "$out/appsettings.json" ||
    die "the publish output of $csproj does not hold its own appsettings.json"
  ok "dotnet publish $csproj -c Release${extra:+ $extra}, with its own appsettings.json ($((SECONDS - step))s)"
done <"$tmp/publish.tsv"

log "all deployment checks passed in $((SECONDS - started))s (images were not built: no Docker engine needed)"
