#!/usr/bin/python3
"""Set configuration options in an sdkconfig without the menu (`make setconfig`).

    scripts/setconfig.py [--kconfig Kconfig] [--config sdkconfig] [--defaults sdkconfig.defaults]
                         CONFIG_NAME=VALUE [CONFIG_NAME=VALUE ...]

Loads the configuration (from the defaults when the file does not exist yet, as
`make menuconfig` does), sets each option, and writes the file only when every option
exists, can be set and took the value asked for; otherwise it names the problem and
leaves the file as it was. Values are written as in sdkconfig: y / n for bool options
(a choice's member y selects it), decimal or 0x-hex for int / hex, any text for strings
(surrounding double quotes are optional). Exit 0 ok, 2 bad usage or an option refused.
"""
import argparse
import difflib
import os
import re
import sys
import tempfile

import kconfiglib

TYPE_NAMES = {kconfiglib.BOOL: "bool", kconfiglib.TRISTATE: "tristate",
              kconfiglib.STRING: "string", kconfiglib.INT: "int", kconfiglib.HEX: "hex"}


class Refused(Exception):
    pass


def parse_assignment(text, prefix):
    m = re.fullmatch(r"([A-Za-z0-9_]+)=(.*)", text, re.S)
    if m is None:
        raise Refused(f"'{text}' is not NAME=VALUE")
    name, value = m.group(1), m.group(2)
    if name.startswith(prefix):
        name = name[len(prefix):]
    return name, value


def normalise(sym, name, value, prefix):
    """The value in kconfiglib's form, or Refused naming why it is not one."""
    t = sym.orig_type
    if t in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        allowed = ("y", "n") if t == kconfiglib.BOOL else ("y", "m", "n")
        if value not in allowed:
            raise Refused(f"{prefix}{name} is a {TYPE_NAMES[t]} option: its value is "
                          f"{' or '.join(allowed)}, not '{value}'")
        return value
    if t == kconfiglib.STRING:
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        return value
    if t == kconfiglib.INT:
        if not re.fullmatch(r"-?[0-9]+", value):
            raise Refused(f"{prefix}{name} is an int option: '{value}' is not a decimal number")
        return value
    if t == kconfiglib.HEX:
        if not re.fullmatch(r"(0[xX])?[0-9a-fA-F]+", value):
            raise Refused(f"{prefix}{name} is a hex option: '{value}' is not a hex number")
        return value if value.lower().startswith("0x") else "0x" + value
    raise Refused(f"{prefix}{name} has no type: it cannot be set")


def why_not_taken(sym, prefix):
    """Words for a value kconfiglib did not take: out of range, not visible, fixed."""
    for lo, hi, cond in sym.ranges:
        if kconfiglib.expr_value(cond):
            return f"the allowed range is {lo.str_value}..{hi.str_value}"
    if sym.visibility == 0 and sym.direct_dep is not sym.kconfig.y:
        return ("it depends on " + kconfiglib.expr_str(sym.direct_dep, lambda s: prefix + s.name
                                                        if isinstance(s, kconfiglib.Symbol)
                                                        and not s.is_constant else s.str_value)
                + ", which is not met")
    if sym.rev_dep is not sym.kconfig.n and kconfiglib.expr_value(sym.rev_dep):
        return "another option selects it"
    return "the configuration does not allow it"


def lookup(kconf, name, value, prefix):
    """(symbol, value in kconfiglib's form) for one assignment, or Refused."""
    sym = kconf.syms.get(name)
    if sym is None or not sym.nodes:  # referenced-only names are Symbols without nodes
        known = [n for n, s in kconf.syms.items() if s.nodes]
        near = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {prefix}{near[0]}?)" if near else ""
        raise Refused(f"no option {prefix}{name} in the Kconfig{hint}")
    if not any(node.prompt for node in sym.nodes):
        raise Refused(f"{prefix}{name} has no prompt: its value follows from other options "
                      "(see its 'default' lines in the Kconfig); set those instead")
    value = normalise(sym, name, value, prefix)
    if sym.choice is not None and value == "n":
        raise Refused(f"{prefix}{name} is one choice of {len(sym.choice.syms)}: select "
                      "another one with =y instead of setting this one to n")
    return sym, value


def check_taken(sym, value, prefix):
    got = sym.str_value
    if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX) and got:
        base = 10 if sym.orig_type == kconfiglib.INT else 16
        same = int(got, base) == int(value, base)
    else:
        same = got == value
    if not same:
        now = f"it stays {got}" if got else "it is not set"
        raise Refused(f"{prefix}{sym.name}={value} is not possible: "
                      f"{why_not_taken(sym, prefix)} ({now})")


def main(argv):
    ap = argparse.ArgumentParser(prog="make setconfig", description=__doc__.split("\n\n")[0])
    ap.add_argument("--kconfig", default="Kconfig")
    ap.add_argument("--config", default=os.environ.get("KCONFIG_CONFIG", "sdkconfig"))
    ap.add_argument("--defaults", default="sdkconfig.defaults")
    ap.add_argument("assignments", nargs="*", metavar="CONFIG_NAME=VALUE")
    args = ap.parse_args(argv)
    if not args.assignments:
        ap.print_usage(sys.stderr)
        print("make setconfig: give at least one option, e.g. "
              "make setconfig CONFIG_EXAMPLE_WIFI_SSID=myssid", file=sys.stderr)
        return 2
    try:
        kconf = kconfiglib.Kconfig(args.kconfig, warn_to_stderr=False)
    except kconfiglib.KconfigError as e:
        print(f"make setconfig: {args.kconfig}: {e}", file=sys.stderr)
        return 2
    prefix = kconf.config_prefix
    source = args.config if os.path.exists(args.config) else args.defaults
    kconf.load_config(source)
    problems = []
    wanted = []
    for text in args.assignments:
        try:
            wanted.append(lookup(kconf, *parse_assignment(text, prefix), prefix))
        except Refused as e:
            problems.append(str(e))
    # Twice, so that an option whose dependency is set later on the line takes its value.
    for _ in range(2):
        for sym, value in wanted:
            sym.set_value(value)
    for sym, value in wanted:
        try:
            check_taken(sym, value, prefix)
        except Refused as e:
            problems.append(str(e))
    if problems:
        for p in problems:
            print(f"make setconfig: {p}", file=sys.stderr)
        print(f"make setconfig: {args.config} is unchanged", file=sys.stderr)
        return 2
    # Write beside the file, then rename: an interrupted run leaves the old file.
    directory = os.path.dirname(os.path.abspath(args.config))
    fd, tmp = tempfile.mkstemp(prefix=".sdkconfig.", dir=directory)
    os.close(fd)
    try:
        kconf.write_config(tmp, save_old=False)
        os.replace(tmp, args.config)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for sym, _ in wanted:
        print(f"{prefix}{sym.name}={sym.str_value}")
    print(f"make setconfig: wrote {args.config}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
