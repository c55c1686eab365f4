# Prints the body of the fenced block whose info string is `tag` (e.g. "cpp example=hello").
$0 == "```" tag { inside = 1; next }
inside && $0 == "```" { exit }
inside { print }
