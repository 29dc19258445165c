#!/usr/bin/python3
"""idf.py for otakit: ESP-IDF's project front end, for the virtual ESP32.

    idf.py [-C PROJECT_DIR] [-B BUILD_DIR] [-p PORT] [-D NAME=VALUE ...] ACTION [ACTION ...]

Actions run in the order given (`idf.py erase-flash flash monitor`):
    set-target esp32   start over for a chip (the virtual device is an ESP32)
    menuconfig         edit the project's sdkconfig in kconfiglib's menu
    reconfigure        run the configuration step (CMake) again
    build | all        build everything: app, bootloader, partition table, flash_args
    app, bootloader, partition-table   build one piece
    flash              write bootloader, partition table, otadata and app into PORT
    app-flash          write only the app
    erase-flash        make PORT a blank flash of the configured size
    monitor            power the virtual device on with PORT as its flash, on this terminal
    size               the app image's size against its partition
    fullclean          delete the build directory

PORT is the virtual device's flash file (default BUILD_DIR/flash.bin): where ESP-IDF
names a serial port, otakit names the chip's flash. `-b BAUD` is accepted and has no
effect. `OTAKIT_MONITOR_ARGS` adds options to `otakit device run` (for example
"--until 'Returned from app_main' --timeout 30").
Exit codes: 0 done, 1 an action failed, 2 bad usage.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys

IDF_PATH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTIONS = ["set-target", "menuconfig", "reconfigure", "build", "all", "app", "bootloader",
           "partition-table", "partition_table", "flash", "app-flash", "erase-flash",
           "erase_flash", "monitor", "size", "fullclean", "clean", "confserver"]


class Failed(Exception):
    pass


def log(msg):
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def run(cmd, cwd=None, env=None):
    log("Running %s in directory %s" % (" ".join(shlex.quote(c) for c in cmd), cwd or os.getcwd()))
    rc = subprocess.call(cmd, cwd=cwd, env=env)
    if rc != 0:
        raise Failed("%s failed with exit code %d" % (os.path.basename(cmd[0]), rc))


class Project:
    def __init__(self, args):
        self.dir = os.path.abspath(args.project_dir)
        self.build = os.path.abspath(args.build_dir or os.path.join(self.dir, "build"))
        self.port = os.path.abspath(args.port) if args.port else os.path.join(self.build, "flash.bin")
        self.defines = args.define or []
        self.generator = args.generator
        if not os.path.isfile(os.path.join(self.dir, "CMakeLists.txt")):
            raise Failed("%s is not an ESP-IDF project: it has no CMakeLists.txt "
                         "(use -C to name the project directory)" % self.dir)

    # -- configuration and build
    def configured(self):
        """A configuration step that finished: the cache and the generated build files."""
        return os.path.isfile(os.path.join(self.build, "CMakeCache.txt")) and any(
            os.path.isfile(os.path.join(self.build, f)) for f in ("build.ninja", "Makefile"))

    def cmake_env(self):
        env = dict(os.environ)
        env["IDF_PATH"] = IDF_PATH
        env["IDF_TARGET"] = "esp32"
        return env

    def configure(self, force=False):
        if self.configured() and not force and not self.defines:
            return
        os.makedirs(self.build, exist_ok=True)
        cmd = ["cmake", "-S", self.dir, "-B", self.build, "-DIDF_TARGET=esp32"]
        if self.generator:
            cmd += ["-G", self.generator]
        elif not self.configured() and shutil.which("ninja"):
            cmd += ["-G", "Ninja"]
        cmd += ["-D" + d for d in self.defines]
        run(cmd, env=self.cmake_env())

    def build_target(self, target=None):
        self.configure()
        cmd = ["cmake", "--build", self.build, "-j", str(os.cpu_count() or 2)]
        if target:
            cmd += ["--target", target]
        run(cmd, env=self.cmake_env())

    def description(self):
        path = os.path.join(self.build, "project_description.json")
        if not os.path.isfile(path):
            raise Failed("%s is missing: run idf.py build first" % path)
        with open(path) as f:
            return json.load(f)

    def otakit(self):
        return self.description()["otakit"]

    def build_otakit(self):
        """Build the otakit tool, unless the build reuses a built otakit tree
        (OTAKIT_HOST_BUILD): then it is that tree's, already built."""
        self.configure()
        if os.path.dirname(os.path.abspath(self.otakit())) == os.path.abspath(self.build):
            self.build_target("otakit")

    # -- the actions
    def set_target(self, target):
        if target != "esp32":
            raise Failed("otakit's virtual device is an ESP32; target '%s' is not supported" % target)
        self.fullclean(quiet=True)
        sdk = os.path.join(self.dir, "sdkconfig")
        if os.path.isfile(sdk):
            shutil.move(sdk, sdk + ".old")
            log("Moved the old sdkconfig to sdkconfig.old")
        log("Set Target to: esp32, new sdkconfig will be created.")
        self.configure(force=True)

    def menuconfig(self):
        self.configure()
        env = dict(os.environ)
        with open(os.path.join(self.build, "config", "config.env")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    env[k] = v
        env.setdefault("MENUCONFIG_STYLE", "aquatic")
        run(["/usr/bin/python3", "-m", "menuconfig", os.path.join(IDF_PATH, "Kconfig")], env=env)
        self.configure(force=True)

    def flash_size(self):
        return self.description()["flash_size"]

    def erase_flash(self):
        self.build_otakit()
        if os.path.exists(self.port):
            os.remove(self.port)
        run([self.otakit(), "flash", "erase", self.port, "--size", self.flash_size()])

    def write(self, args_file):
        pairs = []
        with open(os.path.join(self.build, args_file)) as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or line.startswith("--"):
                    continue
                addr, name = line.split(None, 1)
                pairs += [addr, os.path.join(self.build, name)]
        run([self.otakit(), "flash", "write", self.port] + pairs + ["--size", self.flash_size()])
        log("Flashed %s (the virtual device's flash); 'idf.py -p %s monitor' powers it on"
            % (self.port, self.port))

    def flash(self):
        self.build_target()
        self.write("flash_args")

    def app_flash(self):
        self.build_target("flash_args_file")
        if not os.path.isfile(self.port):
            raise Failed("%s does not exist: run idf.py flash first" % self.port)
        self.write("flash_app_args")

    def monitor(self):
        self.build_otakit()
        if not os.path.isfile(self.port):
            raise Failed("%s does not exist: run idf.py flash first" % self.port)
        extra = shlex.split(os.environ.get("OTAKIT_MONITOR_ARGS", ""))
        log("--- otakit monitor: the virtual ESP32 with flash %s (Ctrl-] quits) ---" % self.port)
        run([self.otakit(), "device", "run", "--flash", self.port] + extra)

    def size(self):
        self.build_target()
        d = self.description()
        run(["/usr/bin/python3", os.path.join(IDF_PATH, "tools", "cmake", "check_size.py"),
             "--otakit", d["otakit"], "--table",
             os.path.join(self.build, "partition_table", "partition-table.bin"),
             os.path.join(self.build, d["app_bin"])])
        run(["size", os.path.join(self.build, d["app_elf"])])

    def fullclean(self, quiet=False):
        if not os.path.isdir(self.build):
            if not quiet:
                log("Build directory %s not found. Nothing to clean." % self.build)
            return
        if os.listdir(self.build) and not os.path.isfile(os.path.join(self.build, "CMakeCache.txt")) \
                and os.listdir(self.build) != [os.path.basename(self.port)]:
            raise Failed("Directory %s doesn't seem to be a CMake build directory. Refusing to "
                         "automatically delete files in this directory. Delete the directory "
                         "manually to 'clean' it." % self.build)
        keep = self.port if os.path.dirname(self.port) == self.build and os.path.isfile(self.port) else None
        for name in os.listdir(self.build):
            path = os.path.join(self.build, name)
            if keep and path == keep:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        log("Done")


def parse(argv):
    ap = argparse.ArgumentParser(
        prog="idf.py", description="ESP-IDF's idf.py for otakit's virtual ESP32",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("-C", "--project-dir", default=os.getcwd())
    ap.add_argument("-B", "--build-dir")
    ap.add_argument("-p", "--port", help="the virtual device's flash file")
    ap.add_argument("-b", "--baud", help="accepted; the virtual device has no serial speed")
    ap.add_argument("-D", "--define", action="append", help="a CMake cache entry, NAME=VALUE")
    ap.add_argument("-G", "--generator")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("actions", nargs="*", metavar="ACTION")
    a = ap.parse_args(argv)
    if not a.actions:
        ap.print_help()
        sys.exit(0)
    return ap, a


def main(argv):
    ap, a = parse(argv)
    steps = []
    i = 0
    while i < len(a.actions):
        act = a.actions[i]
        if act not in ACTIONS:
            ap.error("unknown action '%s' (actions: %s)" % (act, ", ".join(sorted(set(ACTIONS)))))
        if act == "set-target":
            if i + 1 >= len(a.actions):
                ap.error("set-target needs a target name (esp32)")
            steps.append((act, a.actions[i + 1]))
            i += 2
            continue
        steps.append((act, None))
        i += 1
    try:
        p = Project(a)
        for act, arg in steps:
            if act == "set-target":
                p.set_target(arg)
            elif act == "menuconfig" or act == "confserver":
                p.menuconfig()
            elif act == "reconfigure":
                p.configure(force=True)
            elif act in ("build", "all"):
                p.build_target()
            elif act == "app":
                p.build_target("app")
            elif act == "bootloader":
                p.build_target("bootloader_image")
            elif act in ("partition-table", "partition_table"):
                p.build_target("partition_table")
            elif act == "flash":
                p.flash()
            elif act == "app-flash":
                p.app_flash()
            elif act in ("erase-flash", "erase_flash"):
                p.erase_flash()
            elif act == "monitor":
                p.monitor()
            elif act == "size":
                p.size()
            elif act == "fullclean":
                p.fullclean()
            elif act == "clean":
                if p.configured():
                    run(["cmake", "--build", p.build, "--target", "clean"])
        if any(act in ("build", "all", "app") for act, _ in steps):
            log("\nProject build complete. To flash, run:\n idf.py -p %s flash" % p.port)
    except Failed as e:
        sys.stderr.write("idf.py: %s\n" % e)
        return 1
    except KeyboardInterrupt:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
