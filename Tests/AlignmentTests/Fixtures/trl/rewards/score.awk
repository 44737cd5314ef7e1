# A cmd: reward for the export parity fixture: the number of ASCII digits in each JSON line's completion, plus 0.5
# when the row has an answer column. Reads the "completion" member whatever the serializer's spacing.
{
    score = 0
    if (match($0, /"completion": ?"[^"]*"/)) {
        text = substr($0, RSTART, RLENGTH)
        sub(/^"completion": ?"/, "", text)
        score = gsub(/[0-9]/, "", text)
    }
    if ($0 ~ /"answer": ?/) score += 0.5
    print score
}
