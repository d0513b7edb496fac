#!/bin/sh
# `vigie pki`, checked from the outside with the openssl command-line tool,
# in a temporary directory.
#
#   tests/integ/test_pki.sh PATH/TO/vigie
#
# Prints one line per check ("ok N - ..." / "not ok N - ..." with the
# command's output) and exits 1 if any check failed.
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 PATH/TO/vigie" >&2
    exit 2
fi
case "$1" in
/*) vigie=$1 ;;
*) vigie=$(pwd)/$1 ;;
esac
if ! command -v openssl >/dev/null 2>&1; then
    echo "openssl not found: skipped" >&2
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigie-pki.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pki=$tmp/pki
out=$tmp/out
count=0
failures=0

pass() {
    count=$((count + 1))
    echo "ok $count - $1"
}
fail() {
    count=$((count + 1))
    failures=$((failures + 1))
    echo "not ok $count - $1"
    [ -s "$out" ] && sed 's/^/#   /' "$out"
}

# run CMD...: runs it with its output in $out and its status in $rc; a
# sanitizer report anywhere is a failure whatever the status.
run() {
    "$@" >"$out" 2>&1
    rc=$?
    if grep -q 'Sanitizer' "$out"; then
        fail "no sanitizer report from: $*"
    fi
}
# expect STATUS DESCRIPTION CMD...   (STATUS: 0, 1, 2, or "1|2")
expect() {
    want=$1 desc=$2
    shift 2
    run "$@"
    case "|$want|" in
    *"|$rc|"*) pass "$desc" ;;
    *) fail "$desc (exit $rc, expected $want)" ;;
    esac
}
# contains FILE TEXT DESCRIPTION
contains() {
    if grep -qF -- "$2" "$1"; then pass "$3"; else cp "$1" "$out" 2>/dev/null; fail "$3: no '$2'"; fi
}
lacks() {
    if grep -qF -- "$2" "$1"; then cp "$1" "$out"; fail "$3: has '$2'"; else pass "$3"; fi
}
mode_is() {
    m=$(ls -l "$1" | cut -c1-10)
    if [ "$m" = "$2" ]; then pass "$1 is $2"; else : >"$out"; fail "$1 is $m, expected $2"; fi
}
listing() {
    (cd "$1" && find . | LC_ALL=C sort)
}

# --- the command line ---------------------------------------------------------
expect 2 "no command is a usage error" "$vigie"
expect 0 "vigie help" "$vigie" help
contains "$out" "vigie pki" "vigie help lists pki"
expect 0 "vigie --help" "$vigie" --help
expect 0 "vigie pki --help" "$vigie" pki --help
contains "$out" "issue-unit" "vigie pki --help lists issue-unit"
expect 0 "vigie help pki" "$vigie" help pki
expect 2 "unknown command" "$vigie" frobnicate
expect 2 "unknown pki command" "$vigie" pki frobnicate
expect 2 "unknown option" "$vigie" pki list --frobnicate
expect 2 "option of another command" "$vigie" pki issue-unit X --san localhost --dir "$pki"
expect 2 "missing serial" "$vigie" pki issue-unit --dir "$pki"
expect 2 "two serials" "$vigie" pki issue-unit A B --dir "$pki"
expect 2 "--dir without its value" "$vigie" pki init --dir
expect 1 "issuing without a CA fails" "$vigie" pki issue-unit VG-0001 --dir "$pki"
[ -e "$pki" ] && fail "nothing created without a CA" || pass "nothing created without a CA"

# --- init -------------------------------------------------------------------------
expect 0 "init" "$vigie" pki init --dir "$pki"
for f in ca.key ca.crt crl.pem index.txt units servers; do
    [ -e "$pki/$f" ] && pass "init created $f" || fail "init created $f"
done
mode_is "$pki/ca.key" "-rw-------"
cp "$pki/ca.key" "$tmp/ca.key.orig"
cp "$pki/ca.crt" "$tmp/ca.crt.orig"
expect 1 "init again is refused" "$vigie" pki init --dir "$pki"
contains "$out" "already" "the refusal says why"
cmp -s "$pki/ca.key" "$tmp/ca.key.orig" && cmp -s "$pki/ca.crt" "$tmp/ca.crt.orig" &&
    pass "the CA is untouched" || fail "the CA is untouched"

run openssl x509 -in "$pki/ca.crt" -noout -text
cp "$out" "$tmp/ca.txt"
contains "$tmp/ca.txt" "CA:TRUE" "CA: basicConstraints CA:TRUE"
contains "$tmp/ca.txt" "X509v3 Basic Constraints: critical" "CA: basicConstraints critical"
contains "$tmp/ca.txt" "Certificate Sign, CRL Sign" "CA: keyUsage keyCertSign, cRLSign"
contains "$tmp/ca.txt" "id-ecPublicKey" "CA: an EC key"
contains "$tmp/ca.txt" "P-256" "CA: on P-256"
contains "$tmp/ca.txt" "ecdsa-with-SHA256" "CA: signed with SHA-256"
expect 0 "CA valid for more than 9 years" openssl x509 -in "$pki/ca.crt" -noout -checkend $((3650 * 86400 - 86400))

# --- issue --------------------------------------------------------------------------
expect 0 "issue a server" "$vigie" pki issue-server gw --dir "$pki" --san localhost --san 127.0.0.1
expect 0 "issue unit VG-0001" "$vigie" pki issue-unit VG-0001 --dir "$pki"
expect 0 "issue unit VG-0002" "$vigie" pki issue-unit VG-0002 --dir "$pki"
for c in servers/gw units/VG-0001 units/VG-0002; do
    expect 0 "openssl verify $c.crt" openssl verify -CAfile "$pki/ca.crt" "$pki/$c.crt"
    mode_is "$pki/$c.key" "-rw-------"
    mode_is "$pki/$c.crt" "-rw-r--r--"
    run openssl pkey -in "$pki/$c.key" -pubout
    cp "$out" "$tmp/pub.key"
    run openssl x509 -in "$pki/$c.crt" -noout -pubkey
    cmp -s "$out" "$tmp/pub.key" && pass "$c.key matches $c.crt" || fail "$c.key matches $c.crt"
done

run openssl x509 -in "$pki/units/VG-0001.crt" -noout -text
cp "$out" "$tmp/unit.txt"
contains "$tmp/unit.txt" "Subject: CN = VG-0001" "unit: CN is its serial"
contains "$tmp/unit.txt" "TLS Web Client Authentication" "unit: EKU clientAuth"
lacks "$tmp/unit.txt" "TLS Web Server Authentication" "unit: no EKU serverAuth"
contains "$tmp/unit.txt" "id-ecPublicKey" "unit: an EC key"
contains "$tmp/unit.txt" "P-256" "unit: on P-256"
contains "$tmp/unit.txt" "CA:FALSE" "unit: not a CA"
contains "$tmp/unit.txt" "ecdsa-with-SHA256" "unit: signed with SHA-256"
expect 0 "unit: valid for 3 years" openssl x509 -in "$pki/units/VG-0001.crt" -noout -checkend $((1095 * 86400))
expect 1 "unit: not valid past 3 years" openssl x509 -in "$pki/units/VG-0001.crt" -noout -checkend $((1097 * 86400))
expect 0 "unit: verifies for client use" openssl verify -purpose sslclient -CAfile "$pki/ca.crt" "$pki/units/VG-0001.crt"
expect "1|2" "unit: refused for server use" openssl verify -purpose sslserver -CAfile "$pki/ca.crt" "$pki/units/VG-0001.crt"

run openssl x509 -in "$pki/servers/gw.crt" -noout -text
cp "$out" "$tmp/server.txt"
contains "$tmp/server.txt" "Subject: CN = gw" "server: CN is its name"
contains "$tmp/server.txt" "TLS Web Server Authentication" "server: EKU serverAuth"
lacks "$tmp/server.txt" "TLS Web Client Authentication" "server: no EKU clientAuth"
contains "$tmp/server.txt" "DNS:gw, DNS:localhost, IP Address:127.0.0.1" "server: SANs"
contains "$tmp/server.txt" "P-256" "server: on P-256"
expect 0 "server: valid for 2 years" openssl x509 -in "$pki/servers/gw.crt" -noout -checkend $((729 * 86400))
expect 1 "server: not valid past 2 years" openssl x509 -in "$pki/servers/gw.crt" -noout -checkend $((732 * 86400))
expect 0 "server verifies for host localhost" openssl verify -CAfile "$pki/ca.crt" -verify_hostname localhost "$pki/servers/gw.crt"
expect "1|2" "server refused for another host" openssl verify -CAfile "$pki/ca.crt" -verify_hostname example.org "$pki/servers/gw.crt"

expect 0 "a server named by its IP address" "$vigie" pki issue-server 10.1.2.3 --dir "$pki"
run openssl x509 -in "$pki/servers/10.1.2.3.crt" -noout -ext subjectAltName
contains "$out" "IP Address:10.1.2.3" "its SAN is an IP address"
lacks "$out" "localhost" "no localhost unless asked"

# Serial numbers: 128-bit positive (16 bytes, top bit clear), all different.
for c in units/VG-0001 units/VG-0002 servers/gw; do
    run openssl x509 -in "$pki/$c.crt" -noout -serial
    s=$(sed -n 's/^serial=//p' "$out")
    case "$s" in
    [0-7]???????????????????????????????) pass "$c: serial $s is 128-bit positive" ;;
    *) fail "$c: serial '$s' is 128-bit positive" ;;
    esac
    echo "$s" >>"$tmp/serials"
done
[ "$(sort -u "$tmp/serials" | wc -l)" -eq 3 ] && pass "serials differ" || fail "serials differ"

# --- refusals that must leave no trace ----------------------------------------------
before=$(listing "$pki")
cp "$pki/units/VG-0002.key" "$tmp/unit2.key"
expect 1 "issuing VG-0002 again is refused" "$vigie" pki issue-unit VG-0002 --dir "$pki"
cmp -s "$pki/units/VG-0002.key" "$tmp/unit2.key" && pass "VG-0002's key untouched" || fail "VG-0002's key untouched"
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa # 65
expect "1|2" "serial ../x refused" "$vigie" pki issue-unit ../x --dir "$pki"
expect "1|2" "empty serial refused" "$vigie" pki issue-unit "" --dir "$pki"
expect "1|2" "65-character serial refused" "$vigie" pki issue-unit "$long" --dir "$pki"
expect "1|2" "serial with a slash refused" "$vigie" pki issue-unit a/b --dir "$pki"
expect "1|2" "serial with a leading dot refused" "$vigie" pki issue-unit .hidden --dir "$pki"
expect "1|2" "serial with a leading dash refused" "$vigie" pki issue-unit --dir "$pki" -- -x
expect "1|2" "server name ../gw refused" "$vigie" pki issue-server ../gw --dir "$pki"
expect "1|2" "SAN with a comma refused" "$vigie" pki issue-server gw2 --san "a,DNS:evil" --dir "$pki"
expect "1|2" "revoking ../x refused" "$vigie" pki revoke ../x --dir "$pki"
after=$(listing "$pki")
[ "$before" = "$after" ] && pass "no file created or removed by the refusals" ||
    { echo "$before" >"$out"; echo "---" >>"$out"; echo "$after" >>"$out"; fail "no file created or removed by the refusals"; }
expect 0 "a 64-character serial is accepted" "$vigie" pki issue-unit "${long%a}" --dir "$pki"

# --- revoke -------------------------------------------------------------------------
run openssl crl -in "$pki/crl.pem" -noout -crlnumber
number_before=$(cat "$out")
expect 0 "revoke VG-0001" "$vigie" pki revoke VG-0001 --dir "$pki"
expect 0 "the CRL verifies against the CA" openssl crl -in "$pki/crl.pem" -noout -CAfile "$pki/ca.crt"
run openssl crl -in "$pki/crl.pem" -noout -text
cp "$out" "$tmp/crl.txt"
contains "$tmp/crl.txt" "Version 2" "CRL v2"
contains "$tmp/crl.txt" "Next Update" "CRL has a nextUpdate"
contains "$tmp/crl.txt" "CRL Number" "CRL has a number"
run openssl x509 -in "$pki/units/VG-0001.crt" -noout -serial
contains "$tmp/crl.txt" "$(sed -n 's/^serial=//p' "$out")" "CRL lists VG-0001's serial"
expect "1|2" "verify -crl_check fails for VG-0001" openssl verify -crl_check -CRLfile "$pki/crl.pem" -CAfile "$pki/ca.crt" "$pki/units/VG-0001.crt"
contains "$out" "certificate revoked" "because it is revoked"
expect 0 "verify -crl_check passes for VG-0002" openssl verify -crl_check -CRLfile "$pki/crl.pem" -CAfile "$pki/ca.crt" "$pki/units/VG-0002.crt"
expect 0 "verify -crl_check passes for the server" openssl verify -crl_check -CRLfile "$pki/crl.pem" -CAfile "$pki/ca.crt" "$pki/servers/gw.crt"
expect 1 "revoking VG-0001 again is refused" "$vigie" pki revoke VG-0001 --dir "$pki"
expect 1 "revoking an unknown unit is refused" "$vigie" pki revoke VG-9999 --dir "$pki"
[ -e "$pki/units/VG-0001.crt" ] && pass "the revoked unit's files stay" || fail "the revoked unit's files stay"
expect 1 "re-issuing a revoked unit over its files is refused" "$vigie" pki issue-unit VG-0001 --dir "$pki"

# --- crl refresh, list ------------------------------------------------------------------
expect 0 "crl refresh" "$vigie" pki crl --dir "$pki"
run openssl crl -in "$pki/crl.pem" -noout -crlnumber
[ "$(cat "$out")" != "$number_before" ] && pass "the CRL number grew" || fail "the CRL number grew"
expect "1|2" "revocation survives the refresh" openssl verify -crl_check -CRLfile "$pki/crl.pem" -CAfile "$pki/ca.crt" "$pki/units/VG-0001.crt"
expect 0 "list" "$vigie" pki list --dir "$pki"
contains "$out" "revoked" "list shows the revocation"
contains "$out" "VG-0002" "list shows VG-0002"
expect 0 "list --json" "$vigie" pki list --dir "$pki" --json
contains "$out" '"status": "revoked"' "JSON shows the revocation"
contains "$out" '"certificates"' "JSON has the certificates"
expect 1 "list without a PKI fails" "$vigie" pki list --dir "$tmp/none"

# --- default directory, --data-dir, umask -------------------------------------------------
mkdir "$tmp/cwd"
expect 0 "init in the default directory" sh -c "cd '$tmp/cwd' && umask 000 && '$vigie' pki init"
[ -f "$tmp/cwd/var/pki/ca.crt" ] && pass "default is ./var/pki" || fail "default is ./var/pki"
mode_is "$tmp/cwd/var/pki/ca.key" "-rw-------"
expect 0 "issue with --data-dir" "$vigie" pki issue-unit VG-0003 --data-dir "$tmp/cwd/var"
[ -f "$tmp/cwd/var/pki/units/VG-0003.crt" ] && pass "--data-dir D means D/pki" || fail "--data-dir D means D/pki"
expect 2 "--dir and --data-dir together" "$vigie" pki list --dir "$pki" --data-dir "$tmp/cwd/var"
expect "1|2" "a certificate of another CA does not verify" openssl verify -CAfile "$pki/ca.crt" "$tmp/cwd/var/pki/units/VG-0003.crt"

# --- a real TLS 1.3 handshake with openssl s_server / s_client ------------------------------
# The C test (test_tls) covers the daemon's own contexts; this checks the
# files work with a TLS stack other than ours, when a free port can be had.
port=$((20000 + $$ % 20000))
openssl s_server -quiet -accept "127.0.0.1:$port" -tls1_3 -cert "$pki/servers/gw.crt" \
    -key "$pki/servers/gw.key" -CAfile "$pki/ca.crt" -Verify 1 -verify_return_error \
    -naccept 1 >"$tmp/s_server.out" 2>&1 </dev/null &
server_pid=$!
sleep 1
if kill -0 "$server_pid" 2>/dev/null; then
    expect 0 "s_client with VG-0002 completes a TLS 1.3 handshake" sh -c "echo | openssl s_client \
        -connect 127.0.0.1:$port -tls1_3 -cert '$pki/units/VG-0002.crt' -key '$pki/units/VG-0002.key' \
        -CAfile '$pki/ca.crt' -verify_return_error -verify_hostname localhost -brief 2>&1"
    contains "$out" "TLSv1.3" "the protocol is TLS 1.3"
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
else
    echo "# s_server could not listen on $port: handshake check skipped"
fi

echo "$count checks, $failures failed"
[ "$failures" -eq 0 ]
