# Source this file (". ./export.sh") to build ESP-IDF projects for otakit's virtual ESP32:
# it sets IDF_PATH to this tree and puts idf.py on PATH, as ESP-IDF's export.sh does.
# It installs nothing; scripts/setup.sh (or `make setup`) installs what is missing.

_otakit_export() {
    local here
    if [ -n "${BASH_SOURCE-}" ]; then
        here=${BASH_SOURCE[0]}
    elif [ -n "${ZSH_VERSION-}" ]; then
        # shellcheck disable=SC2296
        here=${(%):-%x}
    else
        here=${IDF_PATH:-.}/export.sh
    fi
    here=$(cd "$(dirname "$here")" && pwd) || return 1
    if [ ! -f "$here/tools/idf.py" ]; then
        echo "export.sh: cannot find tools/idf.py beside $here/export.sh; source it by its path" >&2
        return 1
    fi
    export IDF_PATH="$here"
    export IDF_TARGET=esp32
    case ":$PATH:" in
        *":$IDF_PATH/tools:"*) ;;
        *) export PATH="$IDF_PATH/tools:$PATH" ;;
    esac
    if ! "$IDF_PATH/scripts/setup.sh" --check >/dev/null 2>&1; then
        echo "export.sh: some packages otakit needs are missing; run $IDF_PATH/scripts/setup.sh as root" >&2
    fi
    echo "Done! You can now compile ESP-IDF projects for otakit's virtual ESP32."
    echo "Go to the project directory and run:"
    echo ""
    echo "  idf.py build"
}
_otakit_export
unset -f _otakit_export
