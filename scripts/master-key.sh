# Sourced by run.sh and bench.sh. master_key_setup: when no master key is configured
# (Secrets__MasterKey, Secrets__MasterKeyFile or Secrets__CertificateFile), generates one
# into .local/master.key (32 random bytes, base64, mode 0600) on first call, reuses it
# afterwards, and exports Secrets__MasterKeyFile. It encrypts the Data Protection key ring
# in the database: lose it and every stored secret is lost (docs/operations.md).
master_key_setup() {
  if [ -n "${Secrets__MasterKey:-}" ] || [ -n "${Secrets__MasterKeyFile:-}" ] || [ -n "${Secrets__CertificateFile:-}" ]; then
    return 0
  fi
  local file=".local/master.key"
  if [ ! -s "$file" ]; then
    mkdir -p .local
    (umask 077; head -c 32 /dev/urandom | base64 -w0 > "$file") || return 1
    echo "Generated a master key into $file: keep it (and a copy outside this machine); without it no stored secret decrypts." >&2
  fi
  chmod 600 "$file"
  export Secrets__MasterKeyFile="$PWD/$file"
}
