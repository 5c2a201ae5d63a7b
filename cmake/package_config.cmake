# Writes the packaged config (/etc/coworker/coworker.json of the .deb) from config/coworker.json:
# the same keys, with the store in the service's state directory and the operator's doctypes beside
# the config (run as `cmake -P`).   -DIN=<config/coworker.json> -DOUT=<file>
file(READ "${IN}" text)
string(JSON text SET "${text}" db "\"/var/lib/coworker/coworker.db\"")
string(JSON text SET "${text}" doctypes "\"/etc/coworker/doctypes\"")
file(WRITE "${OUT}" "${text}\n")
