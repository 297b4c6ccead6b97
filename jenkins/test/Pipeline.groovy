/**
 * Pipeline is a stand-in for the Jenkins pipeline steps the library uses:
 * it loads a vars/ script with the steps bound as closures, records every
 * step call with the environment at that moment, and answers input steps
 * from a queue. The usual way shared libraries are unit-tested, without
 * Jenkins.
 */
class Pipeline {
    List<Map> calls = []
    Map<String, String> env = [:]
    /** params, when set, is the build's parameters (the pipeline's params global). */
    Map params = null
    List<Object> inputAnswers = []
    Closure<Object> shHandler = { Map args -> args.returnStatus ? 0 : (args.returnStdout ? '' : null) }
    File root

    Pipeline(File root) {
        this.root = root
    }

    private void record(String step, Object args) {
        calls << [step: step, args: args, env: new LinkedHashMap(env)]
    }

    List<Map> callsOf(String step) {
        return calls.findAll { it.step == step }
    }

    Script load(String var) {
        Binding b = new Binding()
        Script s = new GroovyShell(this.class.classLoader, b).parse(new File(root, "vars/${var}.groovy"))
        b.setVariable('env', env)
        if (params != null) {
            b.setVariable('params', params)
        }
        b.setVariable('sh', { Object a ->
            Map args = a instanceof Map ? a : [script: a as String]
            record('sh', args)
            return shHandler(args)
        })
        b.setVariable('echo', { String m -> record('echo', m) })
        b.setVariable('error', { String m ->
            record('error', m)
            throw new PipelineFailure(m)
        })
        b.setVariable('libraryResource', { String p ->
            record('libraryResource', p)
            return new File(root, "resources/${p}").text
        })
        b.setVariable('password', { Map m -> [passwordParameter: m] })
        b.setVariable('input', { Map m ->
            record('input', m)
            if (inputAnswers.isEmpty()) {
                throw new PipelineFailure('no answer for input')
            }
            return inputAnswers.remove(0)
        })
        b.setVariable('timeout', { Map m, Closure body ->
            record('timeout', m)
            return body()
        })
        b.setVariable('withEnv', { List<String> vars, Closure body ->
            record('withEnv', vars.collect { it.split('=', 2)[0] })
            Map saved = new LinkedHashMap(env)
            vars.each { kv ->
                def (k, v) = kv.split('=', 2) as List
                env[k] = v
            }
            try {
                return body()
            } finally {
                env.clear()
                env.putAll(saved)
            }
        })
        b.setVariable('dir', { String d, Closure body ->
            record('dir', d)
            return body()
        })
        return s
    }
}
