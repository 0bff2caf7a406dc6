"""Features tried for the doubtful-word rule beyond its own (issue 23, catch-rate figure): each added
alone, then all together, to the logistic rule, leave-one-clip-out on the shipped corpus.

    .venv/bin/python bench/doubts_features.py      # after doubts_collect.py and doubts_second.py

Candidates: the neighbours' probability (nb_min, nb_mean), −log p, first/last word of its segment,
segment length, the segment's compression ratio, short/long word, probability × rarity, the raw
Zipf frequency, (1−p)², final punctuation, duration, and the « second opinion »: the word is not in a
greedy decoding of the same audio (``disagree``; bench/doubts_second.py). Prints the catch at 20 %
flagged: (in sample, leave-one-clip-out by rank, leave-one-clip-out with each held-out clip's threshold).
A small gradient-boosted model (depth-2 trees, numpy) was tried too: 55.9 % (40 trees), 56.4 % (80).
"""
import json, sys, math
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent)); sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import bench_doubts as B
from oralhist.editorial.doubts import SegInfo, features, text_part
from oralhist.recognition.evaluate import normalise
import jiwer
data = json.load(open(Path(__file__).resolve().parent / "data" / "doubts-words-base-sequential.json"))

def lab(clip):
    lang = clip['language']; words=[]; owner=[]; toks=[]
    flat=[]
    for sg in clip['segments']:
        info = SegInfo(sg['flag'], sg['avg_logprob'], sg['no_speech_prob'])
        n=len(sg['words'])
        for k,(a,b,t,p) in enumerate(sg['words']):
            flat.append((a,b,t,p,info,k,n,sg.get('compression_ratio') or 1.0))
    for i,(a,b,t,p,info,k,n,cr) in enumerate(flat):
        x = features(t,a,b,p,info,lang)
        pp = flat[i-1][3] if i>0 else 1.0; pn = flat[i+1][3] if i+1<len(flat) else 1.0
        letters,key,zipf,dig = text_part(t, lang)
        extra = dict(
            nb_min=1-min(pp,pn), nb_mean=1-(pp+pn)/2, nlogp=min(5,-math.log(max(p,1e-4))),
            first=1.0 if k==0 else 0.0, last=1.0 if k==n-1 else 0.0, seglen=min(1,n/30),
            cr=max(0,cr-1.5), short=1.0 if letters<=2 else 0.0, longw=min(1,letters/12),
            imp_rare=(1-p)*max(0,3.5-zipf)/3.5, zipf=zipf/8, nb_rare=0.0,
            p2=(1-p)**2, punct=1.0 if t.strip()[-1:] in '.,?!' else 0.0,
            dur=min(3,(b-a)/1000),
        )
        words.append({'x':x,'e':extra,'p':p,'wrong':None,'text':t})
        for tk in normalise(t, lang).split():
            toks.append(tk); owner.append(i)
    ref = normalise(clip['reference'], lang)
    if not toks: return []
    wt=[False]*len(toks)
    out = jiwer.process_words(ref, ' '.join(toks))
    for ch in out.alignments[0]:
        if ch.type in ('substitute','insert'):
            for j in range(ch.hyp_start_idx, ch.hyp_end_idx): wt[j]=True
    for j,k in enumerate(owner): words[k]['wrong']=bool(words[k]['wrong']) or wt[j]
    # second opinion
    if clip.get('second_text') is not None:
        import difflib
        g = normalise(clip['second_text'], lang).split()
        sm = difflib.SequenceMatcher(None, toks, g, autojunk=False)
        agree=[False]*len(toks)
        for tag,i1,i2,j1,j2 in sm.get_opcodes():
            if tag=='equal':
                for j in range(i1,i2): agree[j]=True
        dis={}
        for j,k in enumerate(owner): dis[k]=dis.get(k,False) or not agree[j]
        for k,w in enumerate(words): w['e']['disagree']=1.0 if dis.get(k,False) else 0.0
    return [w for w in words if w['wrong'] is not None]

clips=[lab(c) for c in data['clips']]; clips=[c for c in clips if c]
y=np.array([1.0 if w['wrong'] else 0 for c in clips for w in c])
cid=np.array([i for i,c in enumerate(clips) for _ in c])
def evalset(names, l2=0.01):
    X=np.array([w['x']+[w['e'][n] for n in names] for c in clips for w in c])
    w,b=B.fit(X,y,l2=l2); s=B.scores(X,w,b)
    ins=B.catch(B.top_share(s,0.2),y)['catch']
    ls=np.zeros(len(y)); loco=np.zeros(len(y),dtype=bool)
    for i in range(len(clips)):
        tr=cid!=i; wi,bi=B.fit(X[tr],y[tr],l2=l2); ls[cid==i]=B.scores(X[cid==i],wi,bi)
        loco[cid==i]=ls[cid==i]>=B.threshold_at(B.scores(X[tr],wi,bi),0.2)
    return ins, B.catch(B.top_share(ls,0.2),y)['catch'], B.catch(loco,y), np.round(w[-len(names):],2) if names else None
print('n',len(y),'wrong',int(y.sum()))
print('base', evalset([]))
allx=list(clips[0][0]['e'])
for n in allx: print(n, evalset([n]), flush=True)
print('all', evalset(allx))

d=np.array([w['e']['disagree'] for c in clips for w in c]); p=np.array([w['p'] for c in clips for w in c])
print('disagree share', d.mean(), 'precision', (y[d==1]).mean(), 'catch', y[d==1].sum()/y.sum())
for thr in (0.3,0.5,0.7):
    m=p<thr; print('p<',thr, m.mean(), y[m].mean(), 'dis among', d[m].mean(), 'wrong|dis,m', y[m&(d==1)].mean() if (m&(d==1)).any() else None, 'wrong|~dis,m', y[m&(d==0)].mean())
