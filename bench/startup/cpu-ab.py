# python3 bench/startup/cpu-ab.py ROUNDS "cmdA" "cmdB" ...: runs the commands alternated, prints the medians
# of wall ms and of user+sys CPU ms (wait4 rusage, microseconds; /usr/bin/time rounds to 10 ms).
import os,sys,time,subprocess,statistics
n=int(sys.argv[1]); cmds=sys.argv[2:]
res=[([],[]) for _ in cmds]
for r in range(n):
  for i,c in enumerate(cmds):
    t=time.time(); p=subprocess.Popen(['sh','-c','exec '+c],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
    _,st,ru=os.wait4(p.pid,0); w=(time.time()-t)*1000
    res[i][0].append(w); res[i][1].append((ru.ru_utime+ru.ru_stime)*1000)
for i,c in enumerate(cmds):
  print(f"wall {statistics.median(res[i][0]):6.1f} cpu {statistics.median(res[i][1]):6.1f}  {c}")
