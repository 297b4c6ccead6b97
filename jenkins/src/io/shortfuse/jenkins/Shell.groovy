package io.shortfuse.jenkins

import com.cloudbees.groovy.cps.NonCPS

/**
 * Quoting for POSIX sh, so that names, ids and scripts reach shortfuse as
 * single arguments whatever they contain.
 */
class Shell implements Serializable {
    private static final long serialVersionUID = 1L

    /** quote returns s in single quotes, each ' written as '"'"'. */
    @NonCPS
    static String quote(String s) {
        if (s == null) {
            throw new IllegalArgumentException('cannot quote null')
        }
        return "'" + s.replace("'", "'\"'\"'") + "'"
    }

    /** join quotes each word and joins them with spaces. */
    @NonCPS
    static String join(List<String> words) {
        return words.collect { quote(it as String) }.join(' ')
    }
}
