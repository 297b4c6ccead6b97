package io.shortfuse.jenkins

import com.cloudbees.groovy.cps.NonCPS

/**
 * The delegate of a withShortfuse block: sh runs through `shortfuse exec`,
 * every other step goes to the pipeline unchanged.
 */
class Steps implements Serializable {
    private static final long serialVersionUID = 1L

    private final def script
    private final Options opts

    Steps(def script, Options opts) {
        this.script = script
        this.opts = opts
    }

    /** sh 'script' */
    def sh(String s) {
        return sh([script: s])
    }

    /** sh(script: ..., returnStdout: ..., returnStatus: ..., label: ...) */
    def sh(Map args) {
        if (args?.script == null) {
            script.error('withShortfuse: sh needs a script')
        }
        Map wrapped = [:]
        wrapped.putAll(args)
        wrapped.script = opts.execCommand(args.script as String)
        if (!wrapped.containsKey('label')) {
            // The log shows the step by its label, not by the long exec line.
            wrapped.label = 'shortfuse exec: ' + firstLine(args.script as String)
        }
        return script.sh(wrapped)
    }

    @NonCPS
    private static String firstLine(String s) {
        String line = s.trim().readLines().find { it.trim() } ?: ''
        return line.length() > 60 ? line.substring(0, 60) + '…' : line
    }

    def methodMissing(String name, def args) {
        return script.invokeMethod(name, args)
    }

    def propertyMissing(String name) {
        return script.getProperty(name)
    }
}
