/** Small assertion helpers beside Groovy's power assert. */
class Assert {
    /** fails runs body and returns the message of the PipelineFailure it must throw. */
    static String fails(Closure body) {
        thrown(PipelineFailure, 'expected the pipeline to fail', body)
    }

    /** throwsIAE runs body and returns the message of the IllegalArgumentException it must throw. */
    static String throwsIAE(Closure body) {
        thrown(IllegalArgumentException, 'expected IllegalArgumentException', body)
    }

    /** thrown runs body and returns the message of the exception of type it must throw, failing with expected if it throws none. */
    private static String thrown(Class<? extends Throwable> type, String expected, Closure body) {
        try {
            body()
        } catch (Throwable e) {
            if (!type.isInstance(e)) {
                throw e
            }
            return e.message
        }
        assert false: expected
    }

    /** argv runs a command line with sh and returns the arguments a stand-in binary received. */
    static List<String> argv(String commandLine, String binary = 'shortfuse') {
        File dir = File.createTempDir()
        try {
            File bin = new File(dir, binary)
            bin.text = '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done\n'
            bin.setExecutable(true)
            def pb = new ProcessBuilder('/bin/sh', '-c', commandLine)
            pb.environment().put('PATH', dir.path + ':' + System.getenv('PATH'))
            pb.redirectErrorStream(true)
            Process p = pb.start()
            String out = p.inputStream.text
            assert p.waitFor() == 0: out
            return out.isEmpty() ? [] : out.split('\u0000', -1).dropRight(1) as List<String>
        } finally {
            dir.deleteDir()
        }
    }
}
